package io.chorus.coordinator.apply;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.recovery.TransferHold;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One helper's JDBC connection: session_replication_role = replica, no statement or lock timeout, synchronous_commit
 * off, bound to the helper's own replication origin, with its prepared statements cached by shape.
 *
 * <p>Not thread-safe: owned by one helper thread.
 */
final class HelperSession implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(HelperSession.class);
    private static final int MAX_CACHED_STATEMENTS = 512;
    private static final String[] SESSION_SETTINGS = {
        "SET session_replication_role = replica", "SET statement_timeout = 0", "SET lock_timeout = 0",
        "SET idle_in_transaction_session_timeout = 0", "SET synchronous_commit = off"};

    private final ApplierConfig config;
    private final String origin;
    private final Connection connection;
    private final int pid;
    /** The item name of a row's identity in certification keys (as the key deriver writes it). */
    static final String IDENTITY_INDEX = "pkey";
    private static final String INDEX_COLUMNS = "SELECT a.attname FROM pg_index i CROSS JOIN LATERAL "
            + "unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid "
            + "AND a.attnum = k.attnum WHERE i.indrelid = to_regclass(?) AND ";
    private static final String IDENTITY_COLUMNS = INDEX_COLUMNS + "i.indexrelid = coalesce((SELECT j.indexrelid FROM "
            + "pg_index j WHERE j.indrelid = to_regclass(?) AND j.indisreplident), (SELECT j.indexrelid FROM pg_index j "
            + "WHERE j.indrelid = i.indrelid AND j.indisprimary)) ORDER BY k.ord";
    private static final String NAMED_INDEX_COLUMNS = INDEX_COLUMNS + "i.indexrelid = to_regclass(?) ORDER BY k.ord";
    /** Pseudo index name for {@link #indexColumns}: the primary key. */
    static final String PRIMARY_KEY = "\u0000primary";
    private static final String PRIMARY_KEY_COLUMNS = INDEX_COLUMNS + "i.indisprimary AND to_regclass(?) IS NOT NULL "
            + "ORDER BY k.ord";

    private final Map<RelationName, Map<String, String>> columnTypes = new HashMap<>();
    private final Map<RelationName, Integer> droppedColumns = new HashMap<>();
    private final Map<List<Object>, List<String>> indexColumns = new HashMap<>();
    private final Map<Relation, BitSet> matchColumns = new HashMap<>();
    private final Map<Object, PreparedStatement> statements =
            new LinkedHashMap<>(64, 0.75f, true) {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<Object, PreparedStatement> eldest) {
                    if (size() <= MAX_CACHED_STATEMENTS) {
                        return false;
                    }
                    closeQuietly(eldest.getValue());
                    return true;
                }
            };
    private PreparedStatement progress;
    private PreparedStatement xid;
    private PreparedStatement hold;
    private long schemaVersion;
    private boolean ranDdl;
    private PreparedStatement conflicts;

    private HelperSession(ApplierConfig config, String origin, Connection connection, int pid) {
        this.config = config;
        this.origin = origin;
        this.connection = connection;
        this.pid = pid;
    }

    /**
     * Connects and binds the session to {@code origin} (created when missing). Blocking; fails with SQLState 55006
     * while a dead backend still holds the origin (retriable).
     */
    static HelperSession open(ApplierConfig config, String origin) throws SQLException {
        Properties props = new Properties();
        props.setProperty("ApplicationName", origin);
        props.setProperty("tcpKeepAlive", "true");
        // batched INSERTs of one shape travel as multi-row INSERTs
        props.setProperty("reWriteBatchedInserts", "true");
        Connection c = DriverManager.getConnection(config.jdbcUrl(), props);
        try {
            c.setAutoCommit(true);
            int pid;
            try (Statement st = c.createStatement()) {
                for (String s : SESSION_SETTINGS) {
                    st.execute(s);
                }
                try (ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                    rs.next();
                    pid = rs.getInt(1);
                }
            }
            bindOrigin(c, origin);
            c.setAutoCommit(false);
            LOG.debug("helper {} connected (backend pid {})", origin, pid);
            return new HelperSession(config, origin, c, pid);
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    private static void bindOrigin(Connection c, String origin) throws SQLException {
        try (PreparedStatement create = c.prepareStatement("SELECT pg_replication_origin_create(?) WHERE NOT EXISTS "
                + "(SELECT 1 FROM pg_replication_origin WHERE roname = ?)")) {
            create.setString(1, origin);
            create.setString(2, origin);
            create.execute();
        }
        try (PreparedStatement row = c.prepareStatement("INSERT INTO chorus.apply_progress (origin, gsn) "
                + "VALUES (?, 0) ON CONFLICT (origin) DO NOTHING")) {
            row.setString(1, origin);
            row.execute();
        }
        try (PreparedStatement setup = c.prepareStatement("SELECT pg_replication_origin_session_setup(?)")) {
            setup.setString(1, origin);
            setup.execute();
        }
    }

    int pid() {
        return pid;
    }

    String origin() {
        return origin;
    }

    Connection connection() {
        return connection;
    }

    PreparedStatement statement(RowStatement.Shape shape) throws SQLException {
        return statement(shape, shape::sql);
    }

    /** The cached prepared statement for {@code key}, prepared from {@code sql} on first use. */
    PreparedStatement statement(Object key, Supplier<String> sql) throws SQLException {
        PreparedStatement ps = statements.get(key);
        if (ps == null) {
            ps = connection.prepareStatement(sql.get());
            statements.put(key, ps);
        }
        return ps;
    }

    /**
     * The SQL type of every column of {@code relation} in this database (format_type), cached for the session; empty
     * when the table does not exist.
     */
    Map<String, String> columnTypes(RelationName relation) throws SQLException {
        Map<String, String> types = columnTypes.get(relation);
        if (types == null) {
            types = new HashMap<>();
            try (PreparedStatement ps = connection.prepareStatement("SELECT attname, format_type(atttypid, atttypmod) "
                    + "FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped")) {
                ps.setString(1, relation.quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        types.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            columnTypes.put(relation, types);
        }
        return types;
    }

    /**
     * The columns, in index order, of the index a key names on {@code relation}: {@code pkey} is the row identity (the
     * replica identity index, else the primary key), anything else a unique index of that name in the relation's
     * schema. Empty when there is no such index. Cached for the session.
     */
    List<String> indexColumns(RelationName relation, String index) throws SQLException {
        List<Object> cacheKey = List.of(relation, index);
        List<String> cols = indexColumns.get(cacheKey);
        if (cols == null) {
            cols = new ArrayList<>();
            boolean identity = IDENTITY_INDEX.equals(index);
            boolean primary = PRIMARY_KEY.equals(index);
            String sql = primary ? PRIMARY_KEY_COLUMNS : identity ? IDENTITY_COLUMNS : NAMED_INDEX_COLUMNS;
            try (PreparedStatement ps = connection.prepareStatement(sql)) {
                ps.setString(1, relation.quoted());
                ps.setString(2, identity || primary ? relation.quoted()
                        : RelationName.of(relation.schema(), index).quoted());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        cols.add(rs.getString(1));
                    }
                }
            }
            indexColumns.put(cacheKey, cols);
        }
        return cols;
    }

    /** The columns that find a row of {@code relation} (see {@link RowStatement#matchColumns}), cached. */
    BitSet matchColumns(Relation relation) throws SQLException {
        BitSet match = matchColumns.get(relation);
        if (match == null) {
            boolean full = RowStatement.keyColumns(relation).cardinality() == relation.columnCount();
            match = RowStatement.matchColumns(relation, full ? indexColumns(relation.name(), PRIMARY_KEY) : List.of());
            matchColumns.put(relation, match);
        }
        return match;
    }

    /** How many columns {@code relation} lost to DROP COLUMN, cached until the schema changes. */
    int droppedColumns(RelationName relation) throws SQLException {
        Integer n = droppedColumns.get(relation);
        if (n == null) {
            n = io.chorus.schema.DdlRunner.droppedColumns(connection, relation);
            droppedColumns.put(relation, n);
        }
        return n;
    }

    /** Makes the caches valid for the applier's schema version {@code version}: forgets them when it moved on. */
    void schemaAt(long version) {
        if (version != schemaVersion) {
            forgetSchema();
            schemaVersion = version;
        }
    }

    /** A DDL statement ran in the open transaction: caches are stale for its rest (and for the other helpers). */
    void ranDdl() {
        forgetSchema();
        ranDdl = true;
    }

    /** Whether DDL ran since the last call (the applier's schema version must move on once it commits). */
    boolean takeRanDdl() {
        boolean r = ranDdl;
        ranDdl = false;
        return r;
    }

    /** Forgets cached statements, column types and index columns (after DDL). */
    void forgetSchema() {
        matchColumns.clear();
        statements.values().forEach(HelperSession::closeQuietly);
        statements.clear();
        columnTypes.clear();
        droppedColumns.clear();
        indexColumns.clear();
    }

    PreparedStatement conflictInsert() throws SQLException {
        if (conflicts == null) {
            conflicts = connection.prepareStatement(ApplySchema.INSERT_CONFLICT);
        }
        return conflicts;
    }

    /**
     * Where the server's WAL stood when the progress was recorded (insert and flush positions), with the recording
     * transaction's own id and the statement's snapshot, taken before the positions were read, listing that id as
     * running (null when unknown: the session's isolation is not READ COMMITTED, whose statement snapshot follows
     * every earlier statement).
     */
    record WalPositions(Lsn inserted, Lsn flushed, long xid, XidSnapshot snapshot) {
        static final WalPositions UNKNOWN = new WalPositions(Lsn.INVALID, Lsn.INVALID, 0, null);
    }

    /**
     * Gives the open transaction its id now and returns it (one statement), so that other helpers know it for one of
     * theirs before their snapshots list it (see {@link ApplyGuard#helperTransaction}).
     */
    long assignXid() throws SQLException {
        if (xid == null) {
            xid = connection.prepareStatement("SELECT " + xidFunctions()[0] + "::text");
        }
        try (ResultSet rs = xid.executeQuery()) {
            rs.next();
            return Long.parseLong(rs.getString(1));
        }
    }

    /** The functions that give the current transaction id and snapshot as xid8 (PostgreSQL 13+) or as bigint. */
    private String[] xidFunctions() throws SQLException {
        return connection.getMetaData().getDatabaseMajorVersion() >= 13
                ? new String[] {"pg_current_xact_id()", "pg_current_snapshot()"}
                : new String[] {"txid_current()", "txid_current_snapshot()"};
    }

    /**
     * Makes the current transaction record {@code gsn} as this helper's progress when it commits: in its row of
     * chorus.apply_progress (which also gives the transaction an xid, so even a transaction that wrote nothing else
     * leaves a commit record) and in its replication origin. Returns the WAL insert and flush positions read by the
     * same statement: every transaction whose commit the earlier statements waited for lies before them. Also
     * returns the transaction's id and the statement's snapshot (see {@link WalPositions}): a transaction leaves the
     * running set only after its commit record is written, so every transaction the snapshot sees finished that
     * committed lies before the insert position too.
     */
    WalPositions recordProgress(Gsn gsn, Instant originCommitTime) throws SQLException {
        if (progress == null) {
            String[] f = xidFunctions();
            progress = connection.prepareStatement("WITH p AS (UPDATE chorus.apply_progress SET gsn = ?, updated_at = "
                    + "now() WHERE origin = ? RETURNING gsn) SELECT pg_replication_origin_xact_setup(?::pg_lsn, ?), "
                    + "pg_current_wal_insert_lsn()::text, pg_current_wal_flush_lsn()::text, " + f[0] + "::text, "
                    + f[1] + "::text, current_setting('transaction_isolation') FROM p");
        }
        progress.setLong(1, gsn.value());
        progress.setString(2, origin);
        progress.setString(3, gsn.asLsn().toString());
        progress.setObject(4, OffsetDateTime.ofInstant(originCommitTime, ZoneOffset.UTC));
        try (ResultSet rs = progress.executeQuery()) {
            if (!rs.next()) {
                throw new SQLException("the progress row of helper " + origin + " in chorus.apply_progress is "
                        + "missing; it is created when the helper connects", "55000");
            }
            // only READ COMMITTED takes the statement's snapshot after every earlier statement (and its locks)
            long xid = Long.parseLong(rs.getString(4));
            XidSnapshot snapshot = "read committed".equals(rs.getString(6))
                    ? XidSnapshot.parse(rs.getString(5)).withRunning(xid) : null;
            return new WalPositions(Lsn.parse(rs.getString(2)), Lsn.parse(rs.getString(3)), xid, snapshot);
        }
    }

    /**
     * Starts a transaction by taking the transfer hold's advisory lock exclusively (transaction level), waiting at
     * most {@code timeout} for the local transactions that already wrote a replicated table: until this transaction
     * ends, local write statements on replicated tables wait at their {@code chorus_transfer_hold} trigger. Call before
     * any other statement of the transaction. Every later lock wait of the transaction is bounded by the same timeout
     * (55P03): a local statement waiting at its trigger may hold a lock the transaction needs, and only this side can
     * give way. Returns false, with the transaction rolled back (it held nothing), when the wait timed out or was chosen
     * as a deadlock victim.
     *
     * @throws SQLException any other error (e.g. a lost connection), to be handled as a failed attempt
     */
    boolean holdLocalWriters(Duration timeout) throws SQLException {
        if (hold == null) {
            hold = connection.prepareStatement("SELECT set_config('lock_timeout', ?, true), pg_advisory_xact_lock("
                    + TransferHold.KEY + ")");
        }
        hold.setString(1, timeout.toMillis() + "ms");
        try (ResultSet rs = hold.executeQuery()) {
            rs.next();
            return true;
        } catch (SQLException e) {
            if (!SqlErrors.LOCK_NOT_AVAILABLE.equals(e.getSQLState())
                    && !SqlErrors.DEADLOCK.equals(e.getSQLState())) {
                throw e;
            }
            connection.rollback();
            return false;
        }
    }

    /** This helper's committed progress, to tell after a lost connection whether the last commit happened. */
    Gsn committedProgress() throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(
                "SELECT gsn FROM chorus.apply_progress WHERE origin = ?")) {
            ps.setString(1, origin);
            try (ResultSet rs = ps.executeQuery()) {
                Gsn g = rs.next() ? Gsn.of(rs.getLong(1)) : Gsn.NONE;
                connection.commit();
                return g;
            }
        }
    }

    /**
     * Commits; when {@code durable}, waits until the commit is flushed to this server's WAL (not for standbys: the
     * capture may be one in sync mode). Helpers otherwise commit with {@code synchronous_commit = off}, which a crash
     * of PostgreSQL may undo; a transaction that passes one of this node's own changesets must not be undone, because
     * the capture lets go of that changeset once it is applied (see {@code OwnConfirmations}).
     */
    void commit(boolean durable) throws SQLException {
        if (durable) {
            try (Statement st = connection.createStatement()) {
                st.execute("SET LOCAL synchronous_commit = local");
            }
        }
        connection.commit();
    }

    /**
     * Rolls the open transaction back. The origin's session LSN is reset first where the transaction is still
     * healthy, so the abort does not advance the origin (PostgreSQL 16+); where it cannot be, the origin may run ahead
     * of the data, which is why W is read from chorus.apply_progress.
     */
    void rollbackQuietly() {
        try (Statement st = connection.createStatement()) {
            st.execute("SELECT pg_replication_origin_xact_reset()");
        } catch (SQLException e) {
            LOG.trace("helper {}: origin reset before rollback not possible ({})", origin, e.getSQLState());
        }
        try {
            connection.rollback();
        } catch (SQLException e) {
            LOG.debug("helper {}: rollback failed ({}); the connection will be replaced", origin,
                    SqlErrors.describe(e));
        }
    }

    ApplierConfig config() {
        return config;
    }

    @Override
    public void close() {
        statements.values().forEach(HelperSession::closeQuietly);
        statements.clear();
        closeQuietly(connection);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception e) {
            LOG.trace("close failed: {}", e.toString());
        }
    }
}
