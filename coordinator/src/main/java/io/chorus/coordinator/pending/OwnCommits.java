package io.chorus.coordinator.pending;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import java.util.List;

/**
 * This node's changesets in commit order for a rebuild from GSN {@code start}: the ones delivered above it, read ahead
 * from the replayed log one at a time, then the undelivered ones. Knows the lowest deps of those not yet taken, so the
 * rebuild can tell which GSNs no local changeset still to add is concurrent with.
 */
final class OwnCommits {
    private final ReplayedVerdicts.Cursor delivered;
    private final List<ChangeSet> undelivered;
    /** Per position in the sequence: the lowest deps from it on ({@code Long.MAX_VALUE} past the end). */
    private final long[] lowestFrom;
    private ChangeSet peeked;
    private int taken;
    private int undeliveredTaken;

    OwnCommits(ReplayedVerdicts log, long start, ReplayedVerdicts.Cursor delivered, List<ChangeSet> undelivered) {
        this.delivered = delivered;
        this.undelivered = undelivered;
        int first = log.ownCount();
        while (first > 0 && log.ownGsn(first - 1).value() > start) {
            first--;
        }
        int fromLog = log.ownCount() - first;
        lowestFrom = new long[fromLog + undelivered.size() + 1];
        lowestFrom[lowestFrom.length - 1] = Long.MAX_VALUE;
        for (int i = lowestFrom.length - 2; i >= 0; i--) {
            long deps = i < fromLog ? log.ownDeps(first + i).value() : undelivered.get(i - fromLog).deps().value();
            lowestFrom[i] = Math.min(lowestFrom[i + 1], deps);
        }
    }

    /** The next changeset, still to take, or null when every one was taken. */
    ChangeSet peek() {
        if (peeked == null) {
            if (delivered.hasNext()) {
                peeked = delivered.next().changeSet();
            } else if (undeliveredTaken < undelivered.size()) {
                peeked = undelivered.get(undeliveredTaken++);
            }
        }
        return peeked;
    }

    ChangeSet take() {
        ChangeSet cs = peek();
        peeked = null;
        taken++;
        return cs;
    }

    /** The lowest deps of the changesets not taken yet, or {@code Long.MAX_VALUE}. */
    Gsn lowestDepsLeft() {
        return Gsn.of(lowestFrom[Math.min(taken, lowestFrom.length - 1)]);
    }
}
