package io.chorus.changeset.capture;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.capture.CaptureState.Position;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The local changesets emitted and not yet confirmed to the server, and the confirm rule.
 *
 * <p>Rule: when every emitted local changeset has been delivered back in total order, the confirmable position is
 * everything received (with the deps in force there); otherwise it is the commit LSN of the first undelivered local
 * changeset, with that changeset's deps. The server skips, on restart, exactly the transactions whose commit record
 * starts before the confirmed position, so the first undelivered changeset and everything after it are decoded again,
 * with the deps restored from the position. Thread-safe: {@link #markDelivered} is called by consumers, everything else
 * by the reader thread.
 */
final class ConfirmTracker {
    private static final Logger LOG = LogManager.getLogger(ConfirmTracker.class);

    private static final class Entry {
        final Gsn deps;
        final List<AutoCloseable> spillFiles = new ArrayList<>(1);
        boolean delivered;

        Entry(Gsn deps) {
            this.deps = deps;
        }

        void release() {
            for (AutoCloseable f : spillFiles) {
                try {
                    f.close();
                } catch (Exception e) {
                    LOG.warn("cannot delete a spill file of a confirmed changeset: {}", e.toString());
                }
            }
            spillFiles.clear();
        }
    }

    private final TreeMap<Lsn, Entry> pending = new TreeMap<>();
    private int reEmitted;

    /**
     * Records an emitted local changeset and the spill file behind its changes (null when in memory), which is closed
     * when the changeset is confirmed. Returns false if it was already pending (a re-emission after a reconnect); then
     * its deps must equal the first emission's.
     */
    synchronized boolean emitted(Lsn commitLsn, Gsn deps, AutoCloseable spillFile) {
        Entry e = pending.get(commitLsn);
        boolean first = e == null;
        if (first) {
            e = new Entry(deps);
            pending.put(commitLsn, e);
        }
        if (spillFile != null) {
            e.spillFiles.add(spillFile);
        }
        if (first) {
            return true;
        }
        reEmitted++;
        if (!e.deps.equals(deps)) {
            // an inexact deps diverges the cluster (DESIGN §3): make it loud
            throw CaptureException.fatal("changeset committed at " + commitLsn + " was decoded again with deps " + deps
                    + " but first with deps " + e.deps + ": the restored capture position is inconsistent; stop and report this");
        }
        return false;
    }

    /** Marks a local changeset delivered in total order; false if it is not pending (unknown or already confirmed). */
    synchronized boolean markDelivered(Lsn commitLsn) {
        Entry e = pending.get(commitLsn);
        if (e == null) {
            LOG.debug("markDelivered({}) for a changeset that is not pending: already confirmed or never emitted", commitLsn);
            return false;
        }
        e.delivered = true;
        return true;
    }

    /**
     * The position that may be confirmed, given everything received up to {@code received} with {@code currentDeps}
     * in force there: the commit LSN of the first undelivered local changeset below {@code received}, else
     * {@code received}. Forgets nothing: the server may still re-send what lies before the position until it has been
     * persisted and reported ({@link #forgetBefore}).
     */
    synchronized Position confirmable(Lsn received, Gsn currentDeps) {
        for (Map.Entry<Lsn, Entry> e : pending.entrySet()) {
            if (!e.getKey().isBefore(received)) {
                break;
            }
            if (!e.getValue().delivered) {
                return new Position(e.getKey(), e.getValue().deps);
            }
        }
        return new Position(received, currentDeps);
    }

    /**
     * Forgets the delivered changesets that commit before {@code confirmed}, a position persisted and reported to the
     * server (which re-sends none of them); those at or after it are kept, so that their delivery is not forgotten
     * when the server re-sends them after a reconnect.
     */
    synchronized void forgetBefore(Lsn confirmed) {
        while (!pending.isEmpty() && pending.firstEntry().getValue().delivered && pending.firstKey().isBefore(confirmed)) {
            pending.pollFirstEntry().getValue().release();
        }
    }

    /** Deletes every spill file still held (capture is closing). */
    synchronized void releaseAll() {
        for (Entry e : pending.values()) {
            e.release();
        }
    }

    synchronized int pendingCount() {
        return pending.size();
    }

    /** How many local changesets were emitted a second time (after reconnects) in this capture's life. */
    synchronized int reEmitted() {
        return reEmitted;
    }
}
