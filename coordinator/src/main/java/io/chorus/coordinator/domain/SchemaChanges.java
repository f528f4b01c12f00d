package io.chorus.coordinator.domain;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.coordinator.apply.ApplyUnit;
import io.chorus.schema.DdlMessage;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentSkipListSet;

/**
 * Tells the capture side when the schema changed under it, so the catalog the keys are derived from is read again.
 * A remote DDL statement changes this database when the helper that applied it commits; the capture sees that commit
 * in WAL order among the local commits, so local commits decoded after it are keyed against the new definition.
 *
 * <p>Thread-safe: {@link #delivered} runs on the delivery thread, {@link #helperCommitted} on the capture thread.
 */
final class SchemaChanges {
    private final NavigableSet<Long> pendingDdl = new ConcurrentSkipListSet<>();

    /** A unit is handed to the applier: remember its GSN when it runs remote DDL. */
    void delivered(ApplyUnit unit) {
        if (!unit.local() && hasDdl(unit.changes())) {
            pendingDdl.add(unit.gsn().value());
        }
    }

    /** A helper commit up to {@code applied} was decoded; returns whether it committed DDL (the catalog is stale). */
    boolean helperCommitted(Gsn applied) {
        if (pendingDdl.isEmpty() || pendingDdl.first() > applied.value()) {
            return false;
        }
        pendingDdl.headSet(applied.value(), true).clear();
        return true;
    }

    static boolean hasDdl(ChangeSet cs) {
        return hasDdl(cs.changes());
    }

    private static boolean hasDdl(Iterable<Change> changes) {
        for (Change c : changes) {
            if (DdlMessage.isDdl(c)) {
                return true;
            }
        }
        return false;
    }
}
