package io.chorus.changeset.wire;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Column;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import io.chorus.changeset.TruncateChange;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Seeded generator of changesets covering every field and state of the core types. Not thread-safe. */
public final class RandomChanges {
    private static final String[] ALPHABET = {"a", "b", "Z", "0", " ", "'", "\"", "\\", "\n", "é", "ß", "中", "😀", "\u0000"};
    private final Random random;
    private final List<Relation> relations = new ArrayList<>();

    public RandomChanges(long seed) {
        this.random = new Random(seed);
        int n = 1 + random.nextInt(4);
        for (int i = 0; i < n; i++) {
            relations.add(relation(i));
        }
        // the same name with another definition, as after an ALTER TABLE inside one batch
        Relation first = relations.get(0);
        relations.add(new Relation(first.name(), 'f', first.columns().subList(0, 1)));
    }

    public Random random() {
        return random;
    }

    public List<ChangeSet> batch(int maxChangeSets, int maxChanges) {
        int n = random.nextInt(maxChangeSets + 1);
        List<ChangeSet> batch = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            batch.add(changeSet(maxChanges));
        }
        return batch;
    }

    public ChangeSet changeSet(int maxChanges) {
        int n = random.nextInt(maxChanges + 1);
        List<Change> changes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            changes.add(change());
        }
        Gtid gtid = new Gtid(NodeId.of("n" + random.nextInt(100)), Lsn.of(random.nextLong()));
        Instant commitTime = Instant.ofEpochSecond(random.nextInt(2_000_000_000) - 100_000_000L, random.nextInt(1_000_000_000));
        return new ChangeSet(gtid, random.nextBoolean() ? random.nextLong() : random.nextInt(1000), commitTime,
                Gsn.of(random.nextBoolean() ? random.nextInt(100) : random.nextLong() & Long.MAX_VALUE), changes);
    }

    public Change change() {
        int kind = random.nextInt(20);
        if (kind == 0) {
            List<RelationName> names = new ArrayList<>();
            for (int i = random.nextInt(3); i >= 0; i--) {
                names.add(pick().name());
            }
            return new TruncateChange(names, random.nextBoolean(), random.nextBoolean());
        }
        if (kind == 1) {
            byte[] content = new byte[random.nextInt(40)];
            random.nextBytes(content);
            return new MessageChange(text(10), content);
        }
        return rowChange(pick());
    }

    public RowChange rowChange(Relation rel) {
        Op op = Op.values()[random.nextInt(3)];
        Tuple newTuple = op == Op.DELETE ? null : tuple(rel.columnCount(), op == Op.UPDATE);
        Tuple oldTuple = op == Op.DELETE || random.nextBoolean() ? tuple(rel.columnCount(), false) : null;
        List<Key> keys = new ArrayList<>();
        for (int i = random.nextInt(4); i > 0; i--) {
            keys.add(key());
        }
        return new RowChange(rel, op, newTuple, oldTuple, oldTuple != null && random.nextBoolean(), keys);
    }

    public Tuple tuple(int size, boolean allowUnchanged) {
        Tuple.Builder b = Tuple.builder(size);
        for (int c = 0; c < size; c++) {
            int s = random.nextInt(6);
            if (s == 0) {
                b.setNull(c);
            } else if (s == 1 && allowUnchanged) {
                b.setUnchanged(c);
            } else {
                b.setText(c, text(s == 2 ? 300 : 12));
            }
        }
        return b.build();
    }

    public String text(int maxLength) {
        int n = random.nextInt(maxLength + 1);
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(ALPHABET[random.nextInt(ALPHABET.length)]);
        }
        return sb.toString();
    }

    private Key key() {
        KeyKind kind = KeyKind.values()[random.nextInt(KeyKind.values().length)];
        RelationName rel = pick().name();
        if (kind == KeyKind.TABLE) {
            return Key.table(rel);
        }
        List<String> values = new ArrayList<>();
        for (int i = random.nextInt(3); i >= 0; i--) {
            values.add(text(8));
        }
        return new Key(kind, rel, random.nextBoolean() ? "pkey" : text(6), values);
    }

    private Relation pick() {
        return relations.get(random.nextInt(relations.size()));
    }

    private Relation relation(int i) {
        List<Column> columns = new ArrayList<>();
        for (int c = random.nextInt(6); c >= 0; c--) {
            columns.add(new Column("col" + c + text(3), random.nextBoolean(), random.nextInt(5000) - 1,
                    random.nextInt(3) - 1));
        }
        char identity = "dfin".charAt(random.nextInt(4));
        return new Relation(RelationName.of("s" + text(2), "t" + i + text(5)), identity, columns);
    }
}
