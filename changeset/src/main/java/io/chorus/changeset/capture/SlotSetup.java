package io.chorus.changeset.capture;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.capture.CaptureConfig.SlotMode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Prepares a database for capture over an ordinary connection: checks wal_level and the server version, creates the
 * publication (FOR ALL TABLES, publish_via_partition_root) and the slot (plugin pgoutput) when missing, and reads what
 * restoring deps needs. Every failure names the setting or object and the fix. Blocking; used once at start.
 */
final class SlotSetup {
    private static final Logger LOG = LogManager.getLogger(SlotSetup.class);
    static final int MIN_SERVER_VERSION = 140000;
    /** Creating a slot waits for running transactions; never wait without a bound. */
    private static final int CREATE_SLOT_TIMEOUT_MS = 60_000;

    /** What the slot looked like when capture started. */
    record SlotInfo(boolean created, Lsn confirmedFlush, int serverVersion) {
    }

    private final CaptureConfig cfg;

    SlotSetup(CaptureConfig cfg) {
        this.cfg = cfg;
    }

    SlotInfo prepare() {
        try (Connection c = DriverManager.getConnection(cfg.jdbcUrl())) {
            String db = scalar(c, "SELECT current_database()");
            if (!db.equals(cfg.database())) {
                throw CaptureException.fatal("the capture URL connects to database '" + db + "' but the configuration names '"
                        + cfg.database() + "': make them the same");
            }
            int version = Integer.parseInt(scalar(c, "SHOW server_version_num"));
            checkServer(c, version);
            ensurePublication(c);
            SlotInfo slot = cfg.slotMode() == SlotMode.TEMPORARY ? new SlotInfo(true, Lsn.INVALID, version) : ensureSlot(c, version);
            LOG.info("capture prepared: server {} , publication {}, slot {} ({}), confirmed_flush_lsn {}", version,
                    cfg.publication(), cfg.slotName(), slot.created() ? "new" : "existing", slot.confirmedFlush());
            return slot;
        } catch (SQLException e) {
            throw new CaptureException("cannot prepare capture of database '" + cfg.database() + "': " + SqlStates.describe(e),
                    e, SqlStates.isRetriable(e));
        }
    }

    private void checkServer(Connection c, int version) throws SQLException {
        if (version < MIN_SERVER_VERSION) {
            throw CaptureException.fatal("PostgreSQL " + version + " is too old for capture of database '" + cfg.database()
                    + "': pgoutput with logical messages needs PostgreSQL 14 or newer");
        }
        String walLevel = scalar(c, "SHOW wal_level");
        if (!"logical".equals(walLevel)) {
            throw CaptureException.fatal("wal_level is '" + walLevel + "' on the server of database '" + cfg.database()
                    + "'; logical decoding needs wal_level = logical. Fix: ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL");
        }
    }

    private void ensurePublication(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT puballtables, pubviaroot FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, cfg.publication());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    if (!rs.getBoolean(1) || !rs.getBoolean(2)) {
                        throw CaptureException.fatal("publication " + cfg.publication() + " in database '" + cfg.database()
                                + "' exists but is not FOR ALL TABLES WITH (publish_via_partition_root = true): drop it "
                                + "(DROP PUBLICATION " + cfg.publication() + ") and let capture recreate it");
                    }
                    return;
                }
            }
        }
        try (Statement st = c.createStatement()) {
            st.execute("CREATE PUBLICATION " + cfg.publication() + " FOR ALL TABLES WITH (publish_via_partition_root = true)");
            LOG.info("created publication {} FOR ALL TABLES in database {}", cfg.publication(), cfg.database());
        } catch (SQLException e) {
            if (!SqlStates.DUPLICATE_OBJECT.equals(e.getSQLState())) {
                throw e;
            }
        }
    }

    private SlotInfo ensureSlot(Connection c, int version) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT plugin, database, confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, cfg.slotName());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    if (!"pgoutput".equals(rs.getString(1)) || !cfg.database().equals(rs.getString(2))) {
                        throw CaptureException.fatal("slot " + cfg.slotName() + " exists with plugin " + rs.getString(1)
                                + " in database " + rs.getString(2) + ", not pgoutput in " + cfg.database()
                                + ": drop it (SELECT pg_drop_replication_slot('" + cfg.slotName() + "')) or use another slot name");
                    }
                    return new SlotInfo(false, Lsn.parse(rs.getString(3)), version);
                }
            }
        }
        if (cfg.slotMode() == SlotMode.EXISTING) {
            throw CaptureException.fatal("replication slot " + cfg.slotName() + " does not exist in database '"
                    + cfg.database() + "': create it (chorus decode --create-slot, or SELECT pg_create_logical_replication_slot('"
                    + cfg.slotName() + "', 'pgoutput'))");
        }
        return createSlot(c, version);
    }

    private SlotInfo createSlot(Connection c, int version) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute("SET statement_timeout = " + CREATE_SLOT_TIMEOUT_MS);
            try (PreparedStatement ps = c.prepareStatement("SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')")) {
                ps.setString(1, cfg.slotName());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    LOG.info("created replication slot {} (pgoutput) in database {} at {}", cfg.slotName(), cfg.database(), rs.getString(1));
                    return new SlotInfo(true, Lsn.parse(rs.getString(1)), version);
                }
            }
        } catch (SQLException e) {
            throw slotCreationFailure(e);
        }
    }

    private CaptureException slotCreationFailure(SQLException e) {
        String state = e.getSQLState();
        String fix;
        if (SqlStates.CONFIGURATION_LIMIT_EXCEEDED.equals(state)) {
            fix = "all replication slots are in use: drop unused slots (see pg_replication_slots) or raise max_replication_slots "
                    + "(ALTER SYSTEM SET max_replication_slots = <more>; then restart PostgreSQL)";
        } else if (SqlStates.OBJECT_NOT_IN_PREREQUISITE_STATE.equals(state)) {
            fix = "logical decoding is not possible: ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL";
        } else if (SqlStates.QUERY_CANCELED.equals(state)) {
            fix = "creating the slot waited " + CREATE_SLOT_TIMEOUT_MS / 1000 + " s for open transactions to end: "
                    + "find them in pg_stat_activity (state 'idle in transaction') and end them";
        } else {
            return new CaptureException("cannot create replication slot " + cfg.slotName() + " in database '" + cfg.database()
                    + "': " + SqlStates.describe(e), e, SqlStates.isRetriable(e));
        }
        return CaptureException.fatal("cannot create replication slot " + cfg.slotName() + " in database '" + cfg.database()
                + "': " + fix + " [" + SqlStates.describe(e) + "]", e);
    }

    /**
     * The deps at a slot position for which no state file exists: exact only when no helper origin has ever recorded
     * progress (NONE) or the slot was created just now (the helpers' current progress).
     */
    Gsn depsWithoutState(SlotInfo slot) {
        try (Connection c = DriverManager.getConnection(cfg.jdbcUrl());
             PreparedStatement ps = c.prepareStatement("SELECT count(*), max(pg_replication_origin_progress(roname, true))::text"
                     + " FROM pg_replication_origin WHERE starts_with(roname, ?)")) {
            ps.setString(1, cfg.helperOriginPrefix());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getInt(1) == 0 || rs.getString(2) == null) {
                    return Gsn.NONE;
                }
                Gsn progress = Gsn.of(Lsn.parse(rs.getString(2)).value());
                if (slot.created()) {
                    LOG.warn("slot {} created while helper origins exist: deps starts at their progress {}; exact only if no "
                            + "helper committed during slot creation", cfg.slotName(), progress);
                    return progress;
                }
                throw CaptureException.fatal("slot " + cfg.slotName() + " exists but the capture state file is missing "
                        + "while helper origins have applied up to GSN " + progress + ": the deps at the slot's position is "
                        + "unknown. Restore the state file, or drop the slot and rejoin by state transfer");
            }
        } catch (SQLException e) {
            throw new CaptureException("cannot read helper origin progress in database '" + cfg.database() + "': "
                    + SqlStates.describe(e), e, SqlStates.isRetriable(e));
        }
    }

    private static String scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
