package io.chorus.gcs;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.protocols.raft.Log;
import org.jgroups.protocols.raft.LogEntry;
import org.jgroups.raft.RaftHandle;

/**
 * Log retention by age: when the oldest retained entry is older than the configured age, the member compacts its
 * log into a snapshot (jgroups-raft truncates everything up to the last applied entry). Retention by size is
 * jgroups-raft's own {@code max_log_size}. Each member compacts its own log; a member that needs entries another
 * member has compacted receives that member's snapshot instead ({@link GroupListener#onFullTransferNeeded}).
 */
final class Retention {
    private static final Logger LOG = LogManager.getLogger(Retention.class);
    private final GroupConfig cfg;
    private final Supplier<RaftHandle> raft;
    private volatile boolean held;
    private final AtomicBoolean queued = new AtomicBoolean();

    Retention(GroupConfig cfg, Supplier<RaftHandle> raft) {
        this.cfg = cfg;
        this.raft = raft;
    }

    long periodMillis() {
        return Math.max(100, Math.min(60_000, cfg.retentionAge().toMillis() / 10));
    }

    void hold(boolean hold) {
        if (held != hold) {
            LOG.info("compaction by age of group '{}' {}", cfg.groupName(), hold ? "held" : "resumed");
        }
        held = hold;
    }

    /**
     * Looks at the log's oldest entry on RAFT's processing thread (the only thread that may read the log while it
     * appends, {@link CatchUpRaft#runOnLogThread}) and compacts when it is too old. One look queued at a time.
     */
    void check() {
        RaftHandle h = raft.get();
        if (h == null || held || !(h.raft() instanceof CatchUpRaft log) || !queued.compareAndSet(false, true)) {
            return;
        }
        log.runOnLogThread(() -> {
            queued.set(false);
            compactIfOld(h);
        });
    }

    private void compactIfOld(RaftHandle h) {
        if (held) {
            return;
        }
        long oldest = oldestEntryMillis(h.log(), h.lastApplied());
        if (oldest > 0 && System.currentTimeMillis() - oldest > cfg.retentionAge().toMillis()) {
            LOG.info("log of group '{}' holds entries older than {}; compacting it into a snapshot",
                    cfg.groupName(), cfg.retentionAge());
            // queued behind this task on the same thread: waiting for it here would wait forever
            h.raft().snapshotAsync().whenComplete((done, e) -> {
                if (e != null) {
                    LOG.warn("log compaction failed: {}; retrying in {} ms", e.toString(), periodMillis());
                }
            });
        }
    }

    /** The timestamp of the oldest applied data entry after the snapshot point, 0 if none. */
    private static long oldestEntryMillis(Log log, long lastApplied) {
        // after a compaction the entry at firstAppended is the snapshot point itself: start after it
        long first = log.firstAppended() <= 1 ? 1 : log.firstAppended() + 1;
        for (long i = first; i <= lastApplied && i < first + 16; i++) {
            LogEntry e = log.get(i);
            if (e != null && !e.internal() && e.command() != null && e.length() > 0) {
                return EntryCodec.timeMillis(e.command(), e.offset());
            }
        }
        return 0;
    }
}
