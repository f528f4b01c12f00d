package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.util.Collection;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.protocols.raft.FileBasedLog;
import org.jgroups.protocols.raft.InternalCommand;
import org.jgroups.protocols.raft.LogEntries;
import org.jgroups.protocols.raft.LogEntry;
import org.jgroups.util.Util;

/**
 * The offline part of a forced bootstrap: rewrites a stopped member's copy of the log so that, at its next start, it
 * is the only voter (the design is in this package's {@code package-info}). Appends, in a new term, one committed
 * {@code removeServer} entry per other member, and marks every entry of the log as committed: jgroups-raft replays
 * committed configuration entries at start, so the member comes up with itself as the voters and a majority of one,
 * and the records its log held beyond the last commit it knew of are delivered, numbered after the ones before.
 * Not thread-safe: only while the member's channel is closed.
 */
final class ForcedBootstrap {
    private static final Logger LOG = LogManager.getLogger(ForcedBootstrap.class);

    private ForcedBootstrap() {
    }

    /**
     * Rewrites the log of {@code cfg}'s member, which must be closed, removing {@code others} from its voters. Durable
     * (forced to disk) when it returns.
     *
     * @return the index of the last entry written
     */
    static long shrinkToSelf(GroupConfig cfg, Collection<NodeId> others) throws Exception {
        FileBasedLog log = new FileBasedLog();
        log.init(CatchUpRaft.logName(cfg), Map.of());
        try {
            log.useFsync(true);
            long term = log.currentTerm() + 1;
            long last = log.lastAppended();
            long committed = log.commitIndex();
            LogEntries entries = new LogEntries();
            for (NodeId n : others) {
                if (!n.equals(cfg.self())) {
                    byte[] cmd = Util.streamableToByteBuffer(new InternalCommand(InternalCommand.Type.removeServer,
                            n.value()));
                    entries.add(new LogEntry(term, cmd, 0, cmd.length, true));
                }
            }
            long end = entries.size() == 0 ? last : log.append(last + 1, entries);
            log.currentTerm(term);
            log.votedFor(null);
            log.commitIndex(end);
            LOG.warn("forced bootstrap of group '{}': log of {} rewritten in term {}: entries {}..{} (up to entry {} "
                    + "known committed) now committed, {} removed from the voters at entries {}..{}", cfg.groupName(),
                    cfg.self(), term, log.firstAppended(), end, committed, others, last + 1, end);
            return end;
        } finally {
            log.close();
        }
    }
}
