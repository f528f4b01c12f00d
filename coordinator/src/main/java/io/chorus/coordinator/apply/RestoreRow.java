package io.chorus.coordinator.apply;

import io.chorus.changeset.Relation;
import io.chorus.changeset.Tuple;
import java.util.List;
import java.util.Objects;

/**
 * Eager rollback at a loser's origin (DESIGN §3, R3): set the row identified by {@code identity} (the values of the
 * relation's key columns, in column order) to {@code target}, or remove it when {@code target} is null. Restores run
 * in the helper transaction of the winner that doomed them, before the winner's changes: rows that go away are
 * deleted, then every target is written over its row in place (INSERT ... ON CONFLICT DO UPDATE on the row's key), so
 * a local session waiting for the row's lock applies its change to the restored version instead of finding no row.
 * When restored rows swap unique values, the set is written again by deleting every row first and inserting every
 * target after.
 */
public record RestoreRow(Relation relation, List<String> identity, Tuple target) {
    public RestoreRow {
        Objects.requireNonNull(relation, "relation");
        identity = List.copyOf(identity);
    }

    public boolean removes() {
        return target == null;
    }

    /** The rows and their targets in one line, for tracing. */
    public static String describe(List<RestoreRow> rows) {
        StringBuilder sb = new StringBuilder("[");
        for (RestoreRow r : rows) {
            sb.append(sb.length() > 1 ? ", " : "").append(r.relation().name()).append(r.identity()).append(" -> ")
                    .append(r.removes() ? "removed" : r.target());
        }
        return sb.append(']').toString();
    }
}
