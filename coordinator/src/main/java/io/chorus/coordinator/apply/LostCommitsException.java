package io.chorus.coordinator.apply;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;

/**
 * PostgreSQL lost helper commits that the applier had seen succeed: the server restarted after a crash (an immediate
 * stop, a killed postmaster, a power loss) and helpers commit with {@code synchronous_commit = off}, so the last
 * commits before the crash may never have reached the WAL on disk. The database is consistent at its durable
 * watermark, but the domain's state in memory (applier, pending-row tracker) is ahead of it: the domain must start
 * again from the durable watermark, which re-applies the lost GSNs from the group's log. Retriable in that sense: a
 * restart of the domain recovers; continuing in place would leave those GSNs unapplied on this node for good, and
 * local commits made on top of the older rows would then carry their stale values to every node.
 */
public final class LostCommitsException extends ChorusException {
    private static final long serialVersionUID = 1L;
    private final Gsn durable;

    public LostCommitsException(Gsn durable, Gsn committed) {
        super("PostgreSQL lost helper commits: the applier had committed every GSN up to " + committed + " but the "
                + "database holds them only up to GSN " + durable + " (the server restarted after a crash; helpers "
                + "commit with synchronous_commit = off). The domain restarts from W=" + durable + " and applies the "
                + "lost GSNs again from the group's log", null, true);
        this.durable = durable;
    }

    /** The watermark the database really holds. */
    public Gsn durable() {
        return durable;
    }
}
