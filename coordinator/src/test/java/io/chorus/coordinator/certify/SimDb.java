package io.chorus.coordinator.certify;

import io.chorus.changeset.Change;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import io.chorus.coordinator.apply.PendingRows;
import io.chorus.coordinator.apply.RestoreRow;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One simulated database: tables p, c, d in memory. Local statements are checked the way PostgreSQL checks them
 * (unique p.u, the FK c.f → p on INSERT and on an UPDATE that changes f, NO ACTION on DELETE of a parent); helpers
 * enforce the unique index but not the FK (session_replication_role = replica).
 */
final class SimDb {
    /** A statement; for "upd", a value "=" leaves that column unchanged (TOAST-unchanged for table d's doc). */
    record Stmt(String kind, String table, String pk, List<String> values) {
        @Override
        public String toString() {
            return switch (kind) {
                case "ins" -> "INSERT " + table + pk + values;
                case "upd" -> "UPDATE " + table + pk + " SET " + values;
                case "del" -> "DELETE " + table + pk;
                default -> "TRUNCATE " + table;
            };
        }
    }

    static final String KEEP = "=";

    final Map<String, TreeMap<String, Tuple>> tables = new TreeMap<>();

    SimDb() {
        for (String t : List.of("p", "c", "d")) {
            tables.put(t, new TreeMap<>());
        }
    }

    SimDb copy() {
        SimDb d = new SimDb();
        tables.forEach((t, rows) -> d.tables.get(t).putAll(rows));
        return d;
    }

    /** Makes this database hold exactly what {@code other} holds (a helper transaction rolled back). */
    void replaceWith(SimDb other) {
        other.tables.forEach((t, rows) -> {
            tables.get(t).clear();
            tables.get(t).putAll(rows);
        });
    }

    Tuple get(String table, String pk) {
        return tables.get(table).get(pk);
    }

    /** Runs a local statement; null when PostgreSQL would refuse it or it changes nothing. */
    Change local(Stmt s) {
        TreeMap<String, Tuple> rows = tables.get(s.table());
        if (s.kind().equals("trunc")) {
            if (!s.table().equals("d")) {
                return null; // p and c take part in a foreign key: PostgreSQL refuses a lone TRUNCATE
            }
            rows.clear();
            return new TruncateChange(List.of(SimSchema.D), false, false);
        }
        Tuple cur = rows.get(s.pk());
        Tuple neu;
        Op op;
        switch (s.kind()) {
            case "ins" -> {
                if (cur != null) {
                    return null;
                }
                op = Op.INSERT;
                neu = Tuple.ofTexts(s.pk(), s.values().get(0), s.values().get(1));
            }
            case "upd" -> {
                if (cur == null) {
                    return null;
                }
                op = Op.UPDATE;
                neu = updated(s, cur);
                if (neu == null) {
                    return null;
                }
            }
            default -> {
                if (cur == null) {
                    return null;
                }
                op = Op.DELETE;
                neu = null;
            }
        }
        if (!allowed(s, op, cur, neu)) {
            return null;
        }
        put(s.table(), s.pk(), neu == null ? null : merged(neu, cur));
        Relation rel = SimSchema.relation(s.table());
        return new RowChange(rel, op, neu, cur, false, SimSchema.keys(s.table(), op, cur, neu));
    }

    private static Tuple updated(Stmt s, Tuple cur) {
        Tuple.Builder b = Tuple.builder(3).setText(0, s.pk());
        boolean changed = false;
        for (int i = 1; i < 3; i++) {
            String val = s.values().get(i - 1);
            if (KEEP.equals(val)) {
                if (s.table().equals("d") && i == 2) {
                    b.setUnchanged(i);
                } else if (cur.isNull(i)) {
                    b.setNull(i);
                } else {
                    b.setText(i, cur.text(i));
                }
            } else {
                changed |= !Objects.equals(val, cur.text(i));
                if (val == null) {
                    b.setNull(i);
                } else {
                    b.setText(i, val);
                }
            }
        }
        return changed ? b.build() : null;
    }

    private boolean allowed(Stmt s, Op op, Tuple cur, Tuple neu) {
        if (s.table().equals("p") && neu != null && neu.text(2) != null && uniqueTaken(s.pk(), neu.text(2))) {
            return false;
        }
        if (s.table().equals("p") && op == Op.DELETE) {
            for (Tuple ch : tables.get("c").values()) {
                if (ch.text(2).equals(s.pk())) {
                    return false;
                }
            }
        }
        if (s.table().equals("c") && neu != null && (op == Op.INSERT || !neu.text(2).equals(cur.text(2)))) {
            return tables.get("p").containsKey(neu.text(2));
        }
        return true;
    }

    private boolean uniqueTaken(String pk, String u) {
        for (Map.Entry<String, Tuple> e : tables.get("p").entrySet()) {
            if (!e.getKey().equals(pk) && u.equals(e.getValue().text(2))) {
                return true;
            }
        }
        return false;
    }

    /** {@code neu} with its unchanged columns taken from {@code cur}; null when a needed value is missing. */
    static Tuple merged(Tuple neu, Tuple cur) {
        if (!neu.hasUnchanged()) {
            return neu;
        }
        if (cur == null) {
            return null;
        }
        Tuple.Builder b = Tuple.builder(neu.size());
        for (int i = 0; i < neu.size(); i++) {
            Tuple src = neu.isUnchanged(i) ? cur : neu;
            if (src.isNull(i)) {
                b.setNull(i);
            } else if (src.isUnchanged(i)) {
                return null;
            } else {
                b.setText(i, src.text(i));
            }
        }
        return b.build();
    }

    void put(String table, String pk, Tuple t) {
        if (t == null) {
            tables.get(table).remove(pk);
        } else {
            tables.get(table).put(pk, t);
        }
    }

    /** A helper applies a winning row change; returns a failure description, or null. */
    String applyHelper(RowChange rc, PendingRows pending) {
        String table = rc.relation().name().table();
        Tuple id = rc.identityTuple();
        String pk = id.text(0);
        Tuple cur = get(table, pk);
        boolean own = pending.isPendingRow(rc.relation().name(), List.of(pk));
        if (rc.op() == Op.INSERT && cur != null && !own) {
            return "helper INSERT over existing row " + SimSchema.show(table, cur);
        }
        if (rc.op() != Op.INSERT && cur == null && !own) {
            return "helper " + rc.op() + " of missing row " + table + pk;
        }
        if (rc.op() == Op.DELETE) {
            put(table, pk, null);
            return null;
        }
        Tuple row = merged(rc.newTuple(), cur);
        if (row == null) {
            return "helper UPDATE of " + table + pk + " keeps an unchanged TOAST column of a missing row";
        }
        put(table, pk, row);
        return uniqueViolation(pk, row, table);
    }

    private String uniqueViolation(String pk, Tuple row, String table) {
        if (table.equals("p") && row.text(2) != null && uniqueTaken(pk, row.text(2))) {
            return "unique violation p.u=" + row.text(2) + " writing " + SimSchema.show("p", row);
        }
        return null;
    }

    /** Restores as the applier does them: delete every affected row, then insert every present target. */
    String restore(List<RestoreRow> restores) {
        for (RestoreRow r : restores) {
            put(r.relation().name().table(), r.identity().get(0), null);
        }
        for (RestoreRow r : restores) {
            if (!r.removes()) {
                if (r.target().hasUnchanged()) {
                    return "restore of " + r.identity() + " carries an unknown column: " + r.target();
                }
                put(r.relation().name().table(), r.identity().get(0), r.target());
            }
        }
        for (RestoreRow r : restores) {
            if (!r.removes()) {
                String v = uniqueViolation(r.identity().get(0), r.target(), r.relation().name().table());
                if (v != null) {
                    return "restore: " + v;
                }
            }
        }
        return null;
    }

    void truncate(List<RelationName> rels) {
        for (RelationName r : rels) {
            tables.get(r.table()).clear();
        }
    }

    List<String> orphans() {
        List<String> out = new ArrayList<>();
        for (Tuple ch : tables.get("c").values()) {
            if (!tables.get("p").containsKey(ch.text(2))) {
                out.add(SimSchema.show("c", ch));
            }
        }
        return out;
    }

    List<String> duplicates() {
        Map<String, String> seen = new HashMap<>();
        List<String> out = new ArrayList<>();
        for (Map.Entry<String, Tuple> e : tables.get("p").entrySet()) {
            String u = e.getValue().text(2);
            if (u != null && seen.put(u, e.getKey()) != null) {
                out.add("p.u=" + u);
            }
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SimDb d && tables.equals(d.tables);
    }

    @Override
    public int hashCode() {
        return tables.hashCode();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        tables.forEach((t, rows) -> rows.values().forEach(r -> sb.append(sb.length() > 0 ? " " : "")
                .append(SimSchema.show(t, r))));
        return sb.length() == 0 ? "(empty)" : sb.toString();
    }
}
