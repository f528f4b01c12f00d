package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.util.Collection;
import java.util.Map;
import java.util.UUID;
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
 * {@code removeServer} entry per other member and one history entry (the new {@link History}), and marks every entry
 * of the log as committed: jgroups-raft replays
 * committed configuration entries at start, so the member comes up with itself as the voters and a majority of one,
 * and the records its log held beyond the last commit it knew of are delivered, numbered after the ones before.
 * Not thread-safe: only while the member's channel is closed.
 */
final class ForcedBootstrap {
    private static final Logger LOG = LogManager.getLogger(ForcedBootstrap.class);

    private ForcedBootstrap() {
    }

    /**
     * Rewrites the log of {@code cfg}'s member, which must be closed, removing {@code others} from its voters and
     * starting a new history. Durable (forced to disk) when it returns.
     *
     * @param agreedGsn the last GSN the member knew committed (its state machine's, before it closed)
     * @return the id of the new history
     */
    static UUID shrinkToSelf(GroupConfig cfg, Collection<NodeId> others, long agreedGsn) throws Exception {
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
            UUID history = UUID.randomUUID();
            byte[] start = EntryCodec.encodeHistory(new EntryCodec.HistoryStart(history, cfg.self(), term, agreedGsn),
                    System.currentTimeMillis());
            entries.add(new LogEntry(term, start, 0, start.length, false));
            long end = log.append(last + 1, entries);
            log.currentTerm(term);
            log.votedFor(null);
            log.commitIndex(end);
            LOG.warn("forced bootstrap of group '{}': log of {} rewritten in term {}: entries {}..{} (up to entry {} "
                    + "known committed) now committed, {} removed from the voters at entries {}..{}, history {} starts "
                    + "at entry {} (GSNs up to {} agreed with the old history)", cfg.groupName(), cfg.self(), term,
                    log.firstAppended(), end, committed, others, last + 1, end - 1, history, end, agreedGsn);
            return history;
        } finally {
            log.close();
        }
    }
}
