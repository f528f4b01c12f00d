package io.chorus.coordinator.apply;

import io.chorus.changeset.Change;
import io.chorus.changeset.Column;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/** Builds apply units over simple tables whose first column is the primary key, as the certifier would. */
final class Units {
    private Units() {
    }

    /** public.{table}(cols...), the first column being the key. */
    static Relation relation(String table, String... columns) {
        List<Column> cols = new ArrayList<>();
        for (int i = 0; i < columns.length; i++) {
            cols.add(new Column(columns[i], i == 0, 25, -1));
        }
        return new Relation(RelationName.of("public", table), 'd', cols);
    }

    static RowChange insert(Relation r, String... values) {
        return new RowChange(r, Op.INSERT, Tuple.ofTexts(values), null, false, List.of(write(r, values[0])));
    }

    static RowChange update(Relation r, Tuple newTuple) {
        return new RowChange(r, Op.UPDATE, newTuple, null, false, List.of(write(r, newTuple.text(0))));
    }

    static RowChange update(Relation r, String... values) {
        return update(r, Tuple.ofTexts(values));
    }

    static RowChange delete(Relation r, String key) {
        Tuple.Builder old = Tuple.builder(r.columnCount()).setText(0, key);
        for (int i = 1; i < r.columnCount(); i++) {
            old.setNull(i);
        }
        Key k = new Key(KeyKind.DELETE, r.name(), "pkey", List.of(key));
        return new RowChange(r, Op.DELETE, null, old.build(), true, List.of(k));
    }

    static Key write(Relation r, String key) {
        return new Key(KeyKind.WRITE, r.name(), "pkey", List.of(key));
    }

    /** A remote changeset from {@code origin} whose changes all won; keys are the changes' keys. */
    static ApplyUnit remote(long gsn, String origin, Change... changes) {
        List<Key> keys = new ArrayList<>();
        for (Change c : changes) {
            if (c instanceof RowChange rc) {
                keys.addAll(rc.keys());
            }
        }
        return new ApplyUnit(Gsn.of(gsn), gtid(origin, gsn), Instant.now(), false, List.of(), List.of(changes),
                List.of(), keys);
    }

    static ApplyUnit local(long gsn, String origin, List<ConflictRow> conflicts) {
        return new ApplyUnit(Gsn.of(gsn), gtid(origin, gsn), Instant.now(), true, List.of(), List.of(), conflicts,
                List.of());
    }

    static Gtid gtid(String origin, long gsn) {
        return new Gtid(NodeId.of(origin), Lsn.of(0x1000_0000L + gsn * 64));
    }

    /** Records what the applier reports. */
    static final class Recorder implements ApplyListener {
        final List<Gsn> applied = new CopyOnWriteArrayList<>();
        final AtomicReference<ChorusException> failure = new AtomicReference<>();

        @Override
        public void onApplied(Gsn upTo) {
            applied.add(upTo);
        }

        @Override
        public void onFailed(ChorusException reason) {
            if (!failure.compareAndSet(null, reason)) {
                throw new AssertionError("onFailed called twice: " + reason.getMessage());
            }
        }
    }
}
