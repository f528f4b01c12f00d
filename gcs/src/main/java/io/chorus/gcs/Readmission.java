package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.protocols.raft.REDIRECT;
import org.jgroups.raft.RaftHandle;

/**
 * The leader's return of configured members to the voters: a member listed in the group's configuration that is
 * connected (it passed the join guard, so its history is the group's, or a prefix of it: a full transfer's empty
 * log, or an old log that stopped at or before a fork) but is no voter, because a forced bootstrap removed it, is
 * added back, one at a time, while this member leads a primary component. Without it a member that rejoins after a
 * forced bootstrap would receive no log entries, and its full transfer, which runs through the log, could not start.
 * Called from the membership monitor's timer; never blocks (the change commits in the background, and the next call
 * waits for it).
 */
final class Readmission {
    private static final Logger LOG = LogManager.getLogger(Readmission.class);
    private final GroupConfig cfg;
    private final Supplier<RaftHandle> raft;
    private final Supplier<Membership> membership;
    private CompletableFuture<byte[]> inFlight;

    Readmission(GroupConfig cfg, Supplier<RaftHandle> raft, Supplier<Membership> membership) {
        this.cfg = cfg;
        this.raft = raft;
        this.membership = membership;
    }

    /** Adds back the first configured member that is present and no voter, unless a change is still in flight. */
    synchronized void check() {
        if (inFlight != null && !inFlight.isDone()) {
            return;
        }
        inFlight = null;
        Membership m = membership.get();
        RaftHandle r = raft.get();
        if (r == null || !m.primary() || m.leader().filter(cfg.self()::equals).isEmpty()) {
            return;
        }
        for (Member member : cfg.members()) {
            NodeId n = member.id();
            if (m.present().contains(n) && !m.voters().contains(n)) {
                LOG.info("group '{}': {} is connected but no voter (removed by a forced bootstrap); adding it back",
                        cfg.groupName(), n);
                REDIRECT redirect = r.channel().getProtocolStack().findProtocol(REDIRECT.class);
                try {
                    inFlight = redirect.addServer(n.value());
                } catch (Exception e) {
                    LOG.info("group '{}': adding {} back as a voter failed ({}); retrying", cfg.groupName(), n,
                            e.toString());
                    return;
                }
                inFlight.whenComplete((rsp, e) -> LOG.info("group '{}': {} {}", cfg.groupName(), n,
                        e == null ? "is a voter again" : "was not added back (" + e + "); retrying"));
                return;
            }
        }
    }
}
