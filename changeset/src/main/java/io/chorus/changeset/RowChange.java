package io.chorus.changeset;

import java.util.List;
import java.util.Objects;

/**
 * An INSERT, UPDATE or DELETE of one row.
 *
 * @param newTuple the new row (INSERT, UPDATE); null for DELETE. May hold unchanged-TOAST columns on UPDATE.
 * @param oldTuple the old row or old key as the server sent it (UPDATE with a changed key or REPLICA IDENTITY FULL,
 *                 DELETE); null when not sent. For a key-only old tuple, non-key columns are NULL.
 * @param oldIsKeyOnly true when {@code oldTuple} carries only the replica-identity columns ('K'), false for a full
 *                 old row ('O')
 * @param keys     certification keys (DESIGN §3), filled from the catalog at the origin; empty until then
 */
public record RowChange(Relation relation, Op op, Tuple newTuple, Tuple oldTuple, boolean oldIsKeyOnly, List<Key> keys)
        implements Change {
    public RowChange {
        Objects.requireNonNull(relation, "relation");
        Objects.requireNonNull(op, "op");
        keys = List.copyOf(keys);
        if (op != Op.DELETE && newTuple == null) {
            throw new IllegalArgumentException(op + " of " + relation.name() + " without a new tuple");
        }
        if (op == Op.DELETE && oldTuple == null) {
            throw new IllegalArgumentException("DELETE of " + relation.name() + " without an old key");
        }
    }

    public RowChange withKeys(List<Key> newKeys) {
        return new RowChange(relation, op, newTuple, oldTuple, oldIsKeyOnly, newKeys);
    }

    /** The tuple that identifies the row before the change: the old tuple when sent, else the new one. */
    public Tuple identityTuple() {
        return oldTuple != null ? oldTuple : newTuple;
    }
}
