package io.chorus.coordinator.apply;

import io.chorus.changeset.Change;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Key;
import io.chorus.changeset.spill.ChangeBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What the applier does for one delivered GSN, decided by the certifier: restore doomed local rows (R3), apply the
 * winning changes of a remote changeset, record the conflicts, and advance progress to {@code gsn} — all in one
 * helper transaction that commits after every lower GSN.
 *
 * @param local   the changeset is this node's own (self-delivered): nothing to apply, only conflicts and progress
 * @param changes the winning changes only, in origin order (empty for local units)
 * @param keys    every key of the changeset (winning or not): the applier keeps units whose keys meet from running
 *                at the same time
 */
public record ApplyUnit(Gsn gsn, Gtid gtid, Instant originCommitTime, boolean local, List<RestoreRow> restores,
                        List<Change> changes, List<ConflictRow> conflicts, List<Key> keys) {
    public ApplyUnit {
        Objects.requireNonNull(gsn, "gsn");
        restores = List.copyOf(restores);
        changes = List.copyOf(changes);
        conflicts = List.copyOf(conflicts);
        keys = List.copyOf(keys);
    }

    /** A unit that only advances progress (log entries that are not changesets, duplicates). */
    public static ApplyUnit progressOnly(Gsn gsn) {
        return new ApplyUnit(gsn, null, null, true, List.of(), List.of(), List.of(), List.of());
    }

    /**
     * Approximate heap bytes the unit holds (its changes' text plus a fixed overhead per restore and conflict row): what
     * the applier's queue counts against {@link ApplierConfig#queueBytes()}.
     */
    public long estimatedBytes() {
        long n = 128L + 256L * (restores.size() + conflicts.size()) + 64L * keys.size();
        for (Change c : changes) {
            n += ChangeBuffer.estimate(c);
        }
        for (RestoreRow r : restores) {
            for (int i = 0; r.target() != null && i < r.target().size(); i++) {
                String text = r.target().text(i);
                n += text == null ? 0 : text.length();
            }
        }
        return n;
    }

    public boolean hasWork() {
        return !restores.isEmpty() || !changes.isEmpty() || !conflicts.isEmpty();
    }
}
