package io.chorus.recovery;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Refuses local writes on a node whose tables a full transfer is about to replace (DESIGN §7). A write during the
 * transfer would be emptied by the copy, and one committed after the copy but before the capture's new slot exists
 * would never reach the group; either way the node would diverge. The flag is a row of {@code chorus.meta} that the
 * transfer hold trigger of every replicated table reads (chorus-3.sql): writers get SQLSTATE 25006 with the reason and
 * what to do. It is durable: a node that crashes while receiving keeps refusing until its next start has a slot again.
 * Helpers and the copy run in replica mode, where the trigger does not fire.
 *
 * <p>Stateless; each method blocks on the given connection (auto-commit).
 */
public final class LocalWriteRefusal {
    private static final Logger LOG = LogManager.getLogger(LocalWriteRefusal.class);
    private static final String KEY = "local_writes_refused";

    private LocalWriteRefusal() {
    }

    /**
     * Refuses new local writes, then waits until the writing transactions that passed the trigger before have ended
     * (they hold the hold's lock in shared mode), so every local commit is in the WAL once this returns.
     *
     * @throws SQLException when writers still ran after {@code timeout} (SQLSTATE 55P03; the flag stays set: the
     *                      caller retries the start, and the refusal makes the writers finish)
     */
    public static void begin(Connection c, String reason, Duration timeout) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chorus.meta (key, value) VALUES (?, ?) "
                + "ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
            ps.setString(1, KEY);
            ps.setString(2, reason);
            ps.execute();
        }
        long t0 = System.nanoTime();
        try (Statement st = c.createStatement()) {
            st.execute("SET lock_timeout = " + timeout.toMillis());
            try {
                st.execute("SELECT pg_advisory_lock(" + TransferHold.KEY + ")");
                st.execute("SELECT pg_advisory_unlock(" + TransferHold.KEY + ")");
            } catch (SQLException e) {
                throw new SQLException("local writers of " + c.getCatalog() + " did not finish within "
                        + timeout.toSeconds() + " s after new local writes were refused for a full transfer ("
                        + e.getMessage() + "); end the long transactions, the transfer is tried again", e.getSQLState(), e);
            } finally {
                st.execute("RESET lock_timeout");
            }
        }
        LOG.info("local writes to {} are refused ({}); writers that were running finished in {} ms", c.getCatalog(),
                reason, (System.nanoTime() - t0) / 1_000_000);
    }

    /** Accepts local writes again (the capture's slot exists); a no-op when they were not refused. */
    public static void end(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM chorus.meta WHERE key = ?")) {
            ps.setString(1, KEY);
            if (ps.executeUpdate() > 0) {
                LOG.info("local writes to {} are accepted again", c.getCatalog());
            }
        }
    }

    /** Why local writes are refused, or null when they are not. */
    public static String reason(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT value FROM chorus.meta WHERE key = ?")) {
            ps.setString(1, KEY);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
