package io.chorus.coordinator.domain;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.capture.CaptureConfig;
import io.chorus.changeset.capture.CaptureListener;
import io.chorus.changeset.capture.SlotCapture;
import io.chorus.recovery.Connector;
import io.chorus.recovery.SavedCommits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Before a rejoining node's data is replaced by a full transfer (DESIGN §7): its local commits that the group never
 * ordered exist only in its slot. They are decoded once more (a temporary capture up to the current end of WAL), saved
 * as SQL in {@code chorus.saved_commits} for the operator, and the slot and its capture state are dropped, so that the
 * capture starts afresh after the transfer and the copied rows are never taken for local commits.
 *
 * <p>The slot also re-decodes commits the group had already ordered (delivered, not yet confirmed; or appended by the
 * restarted capture just before the group said the log was compacted). They are saved too, because the slot is
 * dropped before anyone can tell, and the first saved row is remembered in {@code chorus.meta}
 * ({@value #UNCHECKED}) in the same transaction. Once the transfer is done, {@link #dropOrdered} removes the saved
 * commits whose GTID the group delivered: an origin's records are ordered in its commit order and deduplicated by
 * commit LSN, so every commit of this node at or below the highest commit LSN the group delivered from it was
 * ordered (and is part of the copied data). A crash in between leaves the marker, so the check runs after the next
 * transfer. Blocking, bounded; stateless.
 */
final class RejoinPreparation {
    private static final Logger LOG = LogManager.getLogger(RejoinPreparation.class);
    /** chorus.meta key: the first saved_commits id not yet checked against what the group delivered. */
    static final String UNCHECKED = "saved_commits_unchecked_from";

    private RejoinPreparation() {
    }

    /** Returns how many transactions were saved (0 when there is no slot). */
    static int saveAndReset(CaptureConfig capture, Path captureState, Connector local, String reason, Duration timeout)
            throws SQLException, InterruptedException {
        Lsn end;
        try (Connection c = local.connect("chorus-rejoin")) {
            if (!slotExists(c, capture.slotName())) {
                return 0;
            }
            end = currentWal(c);
        }
        List<ChangeSet> locals = Collections.synchronizedList(new ArrayList<>());
        decode(capture, end, locals, timeout);
        try (Connection c = local.connect("chorus-rejoin")) {
            c.setAutoCommit(false);
            long firstId = nextSavedId(c);
            int saved = SavedCommits.save(c, locals, reason);
            if (saved > 0) {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO chorus.meta (key, value) VALUES (?, ?) "
                        + "ON CONFLICT (key) DO NOTHING")) { // an earlier unchecked batch starts lower: keep it
                    ps.setString(1, UNCHECKED);
                    ps.setString(2, Long.toString(firstId));
                    ps.execute();
                }
            }
            c.commit();
            c.setAutoCommit(true);
            dropSlot(c, capture.slotName(), timeout);
            forget(captureState);
            LOG.info("saved {} undelivered local transaction(s) in chorus.saved_commits and dropped slot {} before the "
                    + "full transfer", saved, capture.slotName());
            return saved;
        }
    }

    /**
     * After a full transfer: deletes the saved commits of the unchecked batches whose commit LSN is at or below
     * {@code ownOrdered} (the highest commit LSN of this node the group delivered), in one transaction with the
     * marker. Returns how many were deleted; 0 when nothing was waiting for the check.
     */
    static int dropOrdered(Connection c, Lsn ownOrdered) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            String from = null;
            try (PreparedStatement ps = c.prepareStatement("SELECT value FROM chorus.meta WHERE key = ? FOR UPDATE")) {
                ps.setString(1, UNCHECKED);
                try (ResultSet rs = ps.executeQuery()) {
                    from = rs.next() ? rs.getString(1) : null;
                }
            }
            int dropped = 0;
            if (from != null) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM chorus.saved_commits WHERE id >= ? "
                        + "AND commit_lsn::pg_lsn <= ?::pg_lsn")) {
                    ps.setLong(1, Long.parseLong(from));
                    ps.setString(2, ownOrdered.toString());
                    dropped = ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM chorus.meta WHERE key = ?")) {
                    ps.setString(1, UNCHECKED);
                    ps.execute();
                }
            }
            c.commit();
            return dropped;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private static long nextSavedId(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(id), 0) + 1 FROM chorus.saved_commits");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void decode(CaptureConfig cfg, Lsn end, List<ChangeSet> into, Duration timeout)
            throws InterruptedException {
        CountDownLatch caughtUp = new CountDownLatch(1);
        AtomicReference<ChorusException> failure = new AtomicReference<>();
        SlotCapture capture = new SlotCapture(cfg, new CaptureListener() {
            @Override
            public void onLocalChangeSet(ChangeSet cs) {
                into.add(cs);
            }

            @Override
            public void onHelperCommit(String originName, Gsn appliedGsn, Lsn commitLsn) {
                // applied remote changesets: the transfer brings them back
            }

            @Override
            public void onCaughtUp(Lsn walEnd) {
                if (walEnd.value() >= end.value()) {
                    caughtUp.countDown();
                }
            }

            @Override
            public void onFailure(ChorusException cause) {
                failure.set(cause);
                caughtUp.countDown();
            }
        });
        try {
            capture.start();
            if (!caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new ChorusException("the slot " + cfg.slotName() + " was not decoded up to " + end + " within "
                        + timeout.toSeconds() + " s; its local commits could not be saved before the full transfer");
            }
            if (failure.get() != null) {
                throw new ChorusException("decoding slot " + cfg.slotName() + " to save its local commits failed: "
                        + failure.get().getMessage(), failure.get());
            }
        } finally {
            capture.close();
        }
    }

    private static boolean slotExists(Connection c, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ?)")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static Lsn currentWal(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_current_wal_lsn()::text"); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        }
    }

    /** Drops the slot once its walsender has let go of it (bounded). */
    private static void dropSlot(Connection c, String slot, Duration timeout) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ?")) {
                ps.setString(1, slot);
                ps.execute();
                return;
            } catch (SQLException e) {
                if (!"55006".equals(e.getSQLState()) || System.nanoTime() > deadline) { // 55006: slot still active
                    throw e;
                }
            }
            TimeUnit.MILLISECONDS.sleep(100); // pacing a bounded retry while the walsender exits
        }
    }

    /** Deletes a capture state directory (a dropped slot's); throws saying what to delete by hand. */
    static void forget(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new ChorusException("cannot delete the capture state " + dir + " of the dropped slot: " + e.getMessage()
                    + "; delete it by hand and enable again", e);
        }
    }
}
