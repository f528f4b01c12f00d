package io.chorus.recovery;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A snapshot of the donor's database exported with {@code pg_export_snapshot()} from a REPEATABLE READ transaction that
 * stays open, idle, until {@link #close}: other sessions (the joiner's copy workers) import it with
 * {@code SET TRANSACTION SNAPSHOT} while it is open. Not thread-safe; one owner.
 */
final class SnapshotExport implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(SnapshotExport.class);
    private final Connection connection;
    private final String snapshotId;
    private final long openedAt = System.nanoTime();

    private SnapshotExport(Connection connection, String snapshotId) {
        this.connection = connection;
        this.snapshotId = snapshotId;
    }

    /** Opens the transaction and exports its snapshot: from then on the snapshot is fixed. Blocking. */
    static SnapshotExport open(Connector connector) throws SQLException {
        Connection c = connector.connect("chorus-transfer-export");
        try {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                try (ResultSet rs = st.executeQuery("SELECT pg_export_snapshot()")) {
                    rs.next();
                    return new SnapshotExport(c, rs.getString(1));
                }
            }
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    String snapshotId() {
        return snapshotId;
    }

    /** Whether the exporting session is still open (a terminated backend ends the snapshot). */
    boolean alive() {
        try {
            return connection.isValid(2);
        } catch (SQLException e) {
            return false;
        }
    }

    /** Ends the exporting transaction; sessions that imported the snapshot keep it. Never throws. */
    @Override
    public void close() {
        try {
            connection.rollback();
            connection.close();
        } catch (SQLException e) {
            LOG.debug("closing snapshot export {}: {}", snapshotId, e.getMessage());
        }
        LOG.info("snapshot {} released after {} ms", snapshotId, (System.nanoTime() - openedAt) / 1_000_000);
    }
}
