package io.chorus.coordinator.certify;

import io.chorus.changeset.Column;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The simulated schema and its certification keys (DESIGN §3 with R1), written for the test:
 * {@code p(pk, v, u UNIQUE)}, {@code c(pk, v, f NOT NULL REFERENCES p)} and {@code d(pk, v, doc)} where {@code doc}
 * is a TOASTed column that UPDATEs may leave unchanged. All three have REPLICA IDENTITY FULL.
 */
final class SimSchema {
    static final RelationName P = RelationName.of("public", "p");
    static final RelationName C = RelationName.of("public", "c");
    static final RelationName D = RelationName.of("public", "d");
    static final Relation P_REL = relation(P, "v", "u");
    static final Relation C_REL = relation(C, "v", "f");
    static final Relation D_REL = relation(D, "v", "doc");
    static final String PKEY = "pkey";
    static final String UKEY = "u_key";

    private SimSchema() {
    }

    private static Relation relation(RelationName name, String a, String b) {
        return new Relation(name, 'f', List.of(new Column("pk", true, 25, -1), new Column(a, false, 25, -1),
                new Column(b, false, 25, -1)));
    }

    static Relation relation(String table) {
        return switch (table) {
            case "p" -> P_REL;
            case "c" -> C_REL;
            case "d" -> D_REL;
            default -> throw new IllegalArgumentException("no simulated table " + table);
        };
    }

    static Key key(KeyKind kind, RelationName rel, String index, String value) {
        return new Key(kind, rel, index, List.of(value));
    }

    /** R1 keys of a row change; {@code old} and {@code neu} are full rows (neu may hold unchanged TOAST). */
    static List<Key> keys(String table, Op op, Tuple old, Tuple neu) {
        Relation rel = relation(table);
        List<Key> ks = new ArrayList<>();
        Tuple row = op == Op.DELETE ? old : neu;
        ks.add(key(op == Op.DELETE ? KeyKind.DELETE : KeyKind.WRITE, rel.name(), PKEY, row.text(0)));
        if (table.equals("p")) {
            if (op == Op.DELETE) {
                addIfSet(ks, KeyKind.DELETE, UKEY, old.text(2));
            } else {
                addIfSet(ks, KeyKind.WRITE, UKEY, neu.text(2));
                if (op == Op.UPDATE && !Objects.equals(old.text(2), neu.text(2))) {
                    addIfSet(ks, KeyKind.DELETE, UKEY, old.text(2));
                }
            }
        } else if (table.equals("c") && op != Op.DELETE) {
            ks.add(key(KeyKind.REFERENCE, P, PKEY, neu.text(2)));
            if (op == Op.UPDATE && !Objects.equals(old.text(2), neu.text(2))) {
                ks.add(key(KeyKind.REFERENCE, P, PKEY, old.text(2)));
            }
        } else if (table.equals("c")) {
            ks.add(key(KeyKind.REFERENCE, P, PKEY, old.text(2))); // release reference: a lost delete brings it back
        }
        return ks;
    }

    private static void addIfSet(List<Key> ks, KeyKind kind, String index, String value) {
        if (value != null) {
            ks.add(key(kind, P, index, value));
        }
    }

    static String show(String table, Tuple t) {
        if (t == null) {
            return "<absent>";
        }
        StringBuilder sb = new StringBuilder(table).append(t.text(0)).append('(');
        List<Column> cols = relation(table).columns();
        for (int i = 1; i < t.size(); i++) {
            sb.append(i > 1 ? "," : "").append(cols.get(i).name()).append('=');
            sb.append(t.isUnchanged(i) ? "<toast>" : t.isNull(i) ? "null" : t.text(i));
        }
        return sb.append(')').toString();
    }
}
