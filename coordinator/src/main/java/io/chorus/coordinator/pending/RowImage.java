package io.chorus.coordinator.pending;

import io.chorus.changeset.Relation;
import io.chorus.changeset.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A version of one row as this node knows it: absent, or a tuple in which an UNCHANGED column means "value unknown
 * here" (a column the server did not send: unchanged TOAST, or a non-key column of a key-only old tuple). Immutable.
 */
final class RowImage {
    static final RowImage ABSENT = new RowImage(null);

    private final Tuple tuple;

    private RowImage(Tuple tuple) {
        this.tuple = tuple;
    }

    static RowImage of(Tuple tuple) {
        return new RowImage(tuple);
    }

    /** A present row of which only the key columns (taken from {@code keySource}) are known. */
    static RowImage keysOnly(Relation rel, Tuple keySource) {
        Tuple.Builder b = Tuple.builder(rel.columnCount());
        for (int i = 0; i < rel.columnCount(); i++) {
            if (rel.columns().get(i).key()) {
                copy(keySource, i, b);
            } else {
                b.setUnchanged(i);
            }
        }
        return new RowImage(b.build());
    }

    boolean present() {
        return tuple != null;
    }

    Tuple tuple() {
        return tuple;
    }

    boolean complete() {
        return tuple == null || !tuple.hasUnchanged();
    }

    /** {@code newTuple} with its unchanged columns taken from this image (still unknown where this one is). */
    RowImage under(Tuple newTuple) {
        if (!newTuple.hasUnchanged() || tuple == null || tuple.size() != newTuple.size()) {
            return new RowImage(newTuple);
        }
        Tuple.Builder b = Tuple.builder(newTuple.size());
        for (int i = 0; i < newTuple.size(); i++) {
            copy(newTuple.isUnchanged(i) ? tuple : newTuple, i, b);
        }
        return new RowImage(b.build());
    }

    /** This image with its unknown columns filled from {@code other} where {@code other} knows them. */
    RowImage filledFrom(RowImage other) {
        if (complete() || other == null || !other.present() || other.tuple.size() != tuple.size()) {
            return this;
        }
        Tuple.Builder b = Tuple.builder(tuple.size());
        for (int i = 0; i < tuple.size(); i++) {
            copy(tuple.isUnchanged(i) ? other.tuple : tuple, i, b);
        }
        return new RowImage(b.build());
    }

    /** Names of the columns whose value is unknown. */
    List<String> unknownColumns(Relation rel) {
        List<String> out = new ArrayList<>();
        for (int i = 0; tuple != null && i < tuple.size(); i++) {
            if (tuple.isUnchanged(i)) {
                out.add(i < rel.columnCount() ? rel.columns().get(i).name() : "#" + i);
            }
        }
        return out;
    }

    private static void copy(Tuple from, int i, Tuple.Builder to) {
        switch (from.state(i)) {
            case NULL -> to.setNull(i);
            case UNCHANGED -> to.setUnchanged(i);
            case TEXT -> to.setText(i, from.text(i));
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RowImage r && Objects.equals(tuple, r.tuple);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(tuple);
    }

    @Override
    public String toString() {
        return tuple == null ? "<absent>" : tuple.toString();
    }
}
