package io.chorus.recovery;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.RelationName;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Holds a donor's local writers (not its helpers) for the moment it exports a snapshot. Every replicated table gets a
 * statement trigger calling {@code chorus._transfer_hold()}, which takes an advisory lock in shared mode; the hold
 * takes it exclusively, so it first waits for the writing transactions that already passed a trigger, then blocks
 * every new local write statement. Helpers run with {@code session_replication_role = replica}, where such triggers
 * do not fire: remote changesets keep being applied. The triggers are created in replica mode (DDL capture never sees
 * them) on the tables that lack one, and stay: outside a hold they cost one uncontended shared advisory lock per write
 * statement, while dropping one would need an ACCESS EXCLUSIVE lock that waits for the joiner's copy and queues every
 * writer behind it. Writers wait only from {@link #take} to {@link #close}.
 *
 * <p>Not thread-safe; one owner.
 */
public final class TransferHold implements AutoCloseable {
    /**
     * The advisory lock key of {@code chorus._transfer_hold()} (chorus-2.sql): local write statements on replicated
     * tables take it shared; a donor's hold and an applier re-run starved by local writers take it exclusively.
     */
    public static final long KEY = 7163097744720199682L;
    private static final Logger LOG = LogManager.getLogger(TransferHold.class);
    private static final String TRIGGER = "chorus_transfer_hold";

    private final Connection connection;
    private final long heldAt;

    private TransferHold(Connection connection) {
        this.connection = connection;
        this.heldAt = System.nanoTime();
    }

    /**
     * Installs the triggers and takes the hold. Blocks up to {@code timeout} for the transactions already writing.
     *
     * @throws ChorusException when the writing transactions did not finish within the timeout (retriable)
     */
    static TransferHold take(Connector connector, Duration timeout) throws SQLException {
        Connection c = connector.connect("chorus-transfer-hold");
        try {
            List<RelationName> tables = UserTables.list(c);
            try {
                installTriggers(c, tables, timeout);
            } catch (SQLException e) {
                throw new SQLException("the hold trigger could not be installed on every table within "
                        + timeout.toSeconds() + " s (long transactions hold the tables): " + e.getMessage(), e.getSQLState(), e);
            }
            try (Statement st = c.createStatement()) {
                st.execute("SET lock_timeout = " + timeout.toMillis());
                st.execute("SELECT pg_advisory_lock(" + KEY + ")");
            } catch (SQLException e) {
                throw new SQLException("writing transactions did not finish within " + timeout.toSeconds() + " s: "
                        + e.getMessage(), e.getSQLState(), e);
            }
            return new TransferHold(c);
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /**
     * Installs the hold trigger on every replicated table that lacks it; the domain calls it at start (with the
     * replica identity policy), so that a donation rarely has to take the table locks this needs under load. Returns
     * false, logging why, when long transactions held a table past {@code lockTimeout}: a donation installs it then.
     */
    public static boolean install(Connection c, Duration lockTimeout) throws SQLException {
        try {
            installTriggers(c, UserTables.list(c), lockTimeout);
            return true;
        } catch (SQLException e) {
            if (!"55P03".equals(e.getSQLState())) {
                throw e;
            }
            LOG.warn("the transfer hold trigger was not installed on every table within {} s (long transactions); a "
                    + "donation installs it later", lockTimeout.toSeconds());
            return false;
        }
    }

    private static void installTriggers(Connection c, List<RelationName> tables, Duration timeout) throws SQLException {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL session_replication_role = replica");
            st.execute("SET LOCAL lock_timeout = " + timeout.toMillis());
            int created = 0;
            for (RelationName t : tables) {
                if (!hasTrigger(c, t)) {
                    createTrigger(st, t);
                    created++;
                }
            }
            c.commit();
            if (created > 0) {
                LOG.info("transfer hold trigger installed on {} table(s)", created);
            }
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** Whether the database has the hold's trigger function (the chorus schema is installed). */
    static boolean available(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             java.sql.ResultSet rs = st.executeQuery("SELECT to_regprocedure('chorus._transfer_hold()') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** Creates the hold trigger on a table that has none; call in replica mode (DDL capture must not see it). */
    static void createTrigger(Statement st, RelationName t) throws SQLException {
        st.execute("CREATE TRIGGER " + TRIGGER + " BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON "
                + t.quoted() + " FOR EACH STATEMENT EXECUTE FUNCTION chorus._transfer_hold()");
    }

    private static boolean hasTrigger(Connection c, RelationName t) throws SQLException {
        try (java.sql.PreparedStatement ps = c.prepareStatement(
                "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = ?::regclass AND tgname = ?)")) {
            ps.setString(1, t.quoted());
            ps.setString(2, TRIGGER);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** How long writers have been held so far. */
    Duration held() {
        return Duration.ofNanos(System.nanoTime() - heldAt);
    }

    /** Releases the writers (closing the session releases the lock in any case). Never throws. */
    @Override
    public void close() {
        try {
            try (Statement st = connection.createStatement()) {
                st.execute("SELECT pg_advisory_unlock(" + KEY + ")");
            }
        } catch (SQLException e) {
            LOG.warn("releasing the transfer hold: [{}] {}; closing its session releases it", e.getSQLState(), e.getMessage());
        } finally {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("closing the transfer hold connection: {}", e.getMessage());
            }
        }
    }
}
