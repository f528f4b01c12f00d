package io.chorus.coordinator.domain;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.NodeId;
import io.chorus.schema.DdlMessage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Orders DDL before it runs (DESIGN §6; Galera's total order isolation, PGD's global DDL lock): a group-wide DDL lock
 * granted in total order. Before a DDL transaction runs its first statement, the session's event trigger asks
 * for an <em>intent</em> (a read barrier whose token starts with {@value #INTENT}); every node records the intent at
 * its GSN. The session may go on once every intent ordered before its own has ended here — its origin's DDL changeset
 * (which names the intent) was delivered and applied, or its origin released it because its transaction ended without
 * one — so two nodes' DDL never run in an order other than the group's: a concurrent ADD COLUMN on one table gets the
 * same column order on every node.
 *
 * <p>The answer goes through the read-barrier map the control thread answers in {@code chorus.barriers}: the intent's
 * token is put there once nothing earlier is open, with the GSN of the record that ended the last earlier intent; the
 * control thread writes the answer once this node applied that GSN. Intents are appended at once, not behind this
 * node's queued commits: they order DDL against DDL only. A node releases its own intents whose transaction ended (aborted, or
 * committed without DDL) by writing {@value #RELEASE}{@code <id>} as the same kind of message after the end, so the
 * release follows the transaction's changeset, if any, in the log. After a restart a node sweeps the intents it
 * ordered before its replay started ({@value #SWEEP}): it no longer knows them, so could not release them.
 *
 * <p>Thread-safe: deliveries (delivery thread) and {@link #releaseFinished} (timer thread) synchronise on this object.
 * Bounded: at most {@value #MAX_OPEN} open intents are kept (the oldest is dropped with a warning).
 */
final class DdlOrder implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(DdlOrder.class);
    /** Token prefix of an intent: {@code ddl:<id>:<xid>:<backend pid>:<statement start in microseconds>}. */
    static final String INTENT = "ddl:";
    /** Token prefix of a release: {@code ddl-release:<id>}. */
    static final String RELEASE = "ddl-release:";
    /**
     * Token prefix of a forget: {@code ddl-forget:<node>}, appended after a forced bootstrap removed that voter for
     * good; it ends every open intent of that node (no release of them can come any more).
     */
    static final String FORGET = "ddl-forget:";
    /**
     * Token prefix of a sweep: {@code ddl-sweep:<gsn>:<xid>,<xid>,...[:<pid>@<start>,...]}, appended by a node after it
     * restarted (its sidecar: PostgreSQL may have run on) and replayed the log from {@code gsn + 1} only. It ends every
     * open intent of that node ordered at or below {@code gsn} — which the node no longer knows, so would never
     * release — except those whose transaction (full xid) is listed as still in progress, or whose statement (backend
     * pid and start in microseconds) is listed as still running: a CREATE INDEX CONCURRENTLY goes on in further
     * transactions after the one that ordered its intent committed. The node sweeps again once a listed transaction
     * or statement ends.
     */
    static final String SWEEP = "ddl-sweep:";
    /** The most in-progress transactions a sweep lists; with more it waits for fewer. */
    static final int MAX_SWEEP_XIDS = 1_000;
    private static final int MAX_OPEN = 10_000;
    private static final long RELEASE_AGAIN_NANOS = TimeUnit.SECONDS.toNanos(10);

    /**
     * An intent ordered at {@code gsn}: its origin, id, the transaction and the statement (backend pid, start) that
     * asked for it, and the full token its session waits for.
     */
    record Intent(NodeId node, String id, long xid, int pid, long statementStart, Gsn gsn, String token) {
    }

    /** Opens the connection releases are written through. */
    interface Connector {
        Connection open() throws SQLException;
    }

    private final NodeId self;
    private final Connector connector;
    private final NavigableMap<Long, Intent> open = new TreeMap<>();
    private final Map<String, Long> openById = new HashMap<>();
    private final Map<String, Long> released = new HashMap<>();
    private final Set<String> granted = new HashSet<>();
    /** Ids of intents that ended, newest last, bounded: a second copy of one is not opened again. */
    private final Set<String> ended = new java.util.LinkedHashSet<>();
    /** The GSN of the latest record that ended an intent: a DDL granted after it must see it applied first. */
    private Gsn lastEnded = Gsn.NONE;
    private Connection connection; // owned by the timer thread
    /** Intents at or below this GSN are unknown here (the replay started after it); 0: none. Timer thread. */
    private long sweepBefore;
    /** The in-progress transactions the last sweep kept; null: no sweep sent yet. Timer thread. */
    private Running sweepKept;

    /** What a sweep keeps: transactions in progress, and statements that run several transactions. */
    private record Running(Set<Long> xids, Set<String> statements) {
        int size() {
            return xids.size() + statements.size();
        }
    }

    DdlOrder(NodeId self, Connector connector) {
        this.self = self;
        this.connector = connector;
    }

    /**
     * A barrier record at {@code gsn}. Returns false when it is not about DDL (a plain read barrier); else records it
     * and puts the tokens of this node's intents that may now go on into {@code answers}.
     */
    synchronized boolean onBarrier(NodeId node, String token, Gsn gsn, Map<String, Gsn> answers) {
        if (token.startsWith(RELEASE)) {
            String id = token.substring(RELEASE.length());
            Long at = openById.get(id);
            if (at != null && open.get(at).node().equals(node)) { // only its origin knows that its transaction ended
                end(id, gsn, "released");
            }
        } else if (token.startsWith(FORGET)) {
            NodeId gone = NodeId.of(token.substring(FORGET.length()));
            open.values().stream().filter(i -> i.node().equals(gone)).map(Intent::id).toList()
                    .forEach(id -> end(id, gsn, "its node " + gone + " was removed by a forced bootstrap"));
        } else if (token.startsWith(SWEEP)) {
            sweep(node, token, gsn);
        } else if (token.startsWith(INTENT)) {
            Intent i = parse(node, token, gsn);
            if (openById.containsKey(i.id()) || ended.contains(i.id())) {
                return true; // a second copy (appended again after an append that seemed to fail)
            }
            if (open.size() >= MAX_OPEN) {
                Intent oldest = open.firstEntry().getValue();
                LOG.warn("{} DDL intents are open; the oldest ({} of {} at GSN {}) is dropped", open.size(), oldest.id(),
                        oldest.node(), oldest.gsn());
                end(oldest.id(), gsn, "dropped");
            }
            open.put(gsn.value(), i);
            openById.put(i.id(), gsn.value());
            LOG.debug("DDL intent {} of {} ordered at GSN {}", i.id(), node, gsn);
        } else {
            return false;
        }
        grant(gsn, answers);
        return true;
    }

    /** A changeset at {@code gsn}: its DDL messages end the intents they name. */
    synchronized void onChanges(ChangeSet cs, Gsn gsn, Map<String, Gsn> answers) {
        if (open.isEmpty()) {
            return;
        }
        boolean ended = false;
        for (Change c : cs.changes()) {
            if (DdlMessage.isDdl(c)) {
                var intent = DdlMessage.of((MessageChange) c).intent();
                if (intent.isPresent()) {
                    ended |= end(intent.get(), gsn, "committed");
                }
            }
        }
        if (ended) {
            grant(gsn, answers);
        }
    }

    private void sweep(NodeId node, String token, Gsn gsn) {
        String[] parts = token.substring(SWEEP.length()).split(":", 3);
        long before;
        Set<Long> kept = new HashSet<>();
        Set<String> keptStatements = new HashSet<>();
        try {
            before = Long.parseLong(parts[0]);
            if (parts.length > 1) {
                for (String x : parts[1].split(",")) {
                    if (!x.isEmpty()) {
                        kept.add(Long.parseLong(x));
                    }
                }
            }
            if (parts.length > 2) {
                for (String x : parts[2].split(",")) {
                    if (!x.isEmpty()) {
                        String[] ps = x.split("@", 2);
                        keptStatements.add(Integer.parseInt(ps[0]) + "@" + Long.parseLong(ps[1]));
                    }
                }
            }
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            LOG.warn("DDL sweep of {} at GSN {} is malformed ({}); ignored", node, gsn, token);
            return;
        }
        open.values().stream().filter(i -> i.node().equals(node) && i.gsn().value() <= before && !kept.contains(i.xid())
                        && !(i.pid() > 0 && keptStatements.contains(statementOf(i.pid(), i.statementStart()))))
                .map(Intent::id).toList().forEach(id -> end(id, gsn, "its node " + node + " restarted and replayed the "
                        + "log from GSN " + (before + 1) + " only, and its transaction and statement are over"));
    }

    /** A statement as a sweep lists it: backend pid, start in microseconds since the epoch. */
    private static String statementOf(int pid, long start) {
        return pid + "@" + start;
    }

    private boolean end(String id, Gsn gsn, String how) {
        Long at = openById.remove(id);
        if (at == null) {
            return false;
        }
        Intent i = open.remove(at);
        granted.remove(id);
        lastEnded = gsn;
        ended.add(id);
        if (ended.size() > MAX_OPEN) {
            ended.remove(ended.iterator().next());
        }
        LOG.info("DDL intent {} of {} (GSN {}) ended at GSN {}: {}", id, i.node(), at, gsn, how);
        return true;
    }

    /**
     * Answers this node's intent when nothing open precedes it, with the GSN of the record that ended the last intent
     * before it: that DDL must be applied here first. Other changes ordered before the new DDL but applied here after
     * it are what any DDL meets at its origin (keyed DDL makes later writes that did not see it lose; dropped columns
     * and moved tables are adapted), so the DDL does not wait for this node's whole apply backlog.
     */
    private void grant(Gsn now, Map<String, Gsn> answers) {
        for (Intent i : open.values()) {
            if (i.node().equals(self)) {
                if (granted.add(i.id())) {
                    answers.put(i.token(), lastEnded);
                    LOG.info("DDL intent {} (GSN {}, delivered up to {}) may run once GSN {} is applied here", i.id(),
                            i.gsn(), now, lastEnded);
                }
            }
            break; // only the first open intent is granted: every later one waits for it
        }
    }

    private static Intent parse(NodeId node, String token, Gsn gsn) {
        String[] parts = token.substring(INTENT.length()).split(":");
        return new Intent(node, parts[0], number(parts, 1), (int) number(parts, 2), number(parts, 3), gsn, token);
    }

    private static long number(String[] parts, int i) {
        try {
            return parts.length > i ? Long.parseLong(parts[i]) : 0;
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    /** The open intents, oldest first (for status and tests). */
    synchronized List<Intent> openIntents() {
        return new ArrayList<>(open.values());
    }

    /**
     * Releases this node's open intents whose transaction is over: aborted (the statement failed, or its wait timed
     * out), or committed (its changeset, if it had one, is already ahead of the release in the capture). Blocking; on
     * the timer thread. A failure is logged and retried on the next call.
     */
    void releaseFinished() {
        try {
            sweepIfDue();
        } catch (SQLException | RuntimeException e) {
            LOG.warn("cannot sweep the DDL intents this node ordered before its restart ({}); retrying", e.getMessage());
            closeConnection();
        }
        List<Intent> mine = new ArrayList<>();
        synchronized (this) {
            long now = System.nanoTime();
            released.values().removeIf(at -> now - at > RELEASE_AGAIN_NANOS);
            for (Intent i : open.values()) {
                if (i.node().equals(self) && !released.containsKey(i.id())) {
                    mine.add(i);
                }
            }
        }
        if (mine.isEmpty()) {
            return;
        }
        try {
            for (Intent i : mine) {
                if (!inProgress(i)) {
                    release(i);
                }
            }
        } catch (SQLException | RuntimeException e) {
            LOG.warn("cannot check or release this node's DDL intents ({}); retrying", e.getMessage());
            closeConnection();
        }
    }

    /**
     * This node replayed the log from {@code from + 1} after a restart: its intents ordered at or below {@code from}
     * are unknown here, so the next {@link #releaseFinished} sweeps them ({@value #SWEEP}). Call before the first
     * {@link #releaseFinished}.
     */
    void restartedAfter(Gsn from) {
        sweepBefore = from.value();
    }

    /**
     * Sends the sweep after a restart, and again each time a transaction the last one kept has ended. Through the WAL,
     * like a release: it follows every changeset this node committed before it, so a DDL changeset of a swept intent
     * ends it first.
     */
    private void sweepIfDue() throws SQLException {
        if (sweepBefore <= 0 || (sweepKept != null && sweepKept.size() == 0)) {
            return;
        }
        Running running = sweepKept == null ? runningNow() : stillRunning(sweepKept);
        if (running == null || (sweepKept != null && running.size() == sweepKept.size())) {
            return; // too many to list yet, or nothing the last sweep kept has ended
        }
        emit(SWEEP + sweepBefore + ":" + String.join(",", running.xids().stream().sorted().map(String::valueOf).toList())
                + (running.statements().isEmpty() ? "" : ":" + String.join(",", running.statements().stream().sorted()
                .toList())));
        sweepKept = running;
        LOG.info("DDL intents of this node ordered up to GSN {} (before its replay) swept{}", sweepBefore,
                running.size() == 0 ? "" : "; intents of " + running.xids().size() + " transaction(s) in progress and "
                        + running.statements().size() + " running statement(s) are kept until they end");
    }

    /**
     * The full ids of the transactions in progress now, or null when there are more than {@value #MAX_SWEEP_XIDS}: a
     * snapshot's in-progress list plus the ids from its xmax (the oldest not yet completed) up to this transaction's
     * own id, which are assigned but not completed, so in progress too.
     */
    private Running runningNow() throws SQLException {
        Connection c = connection();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            long self;
            try (ResultSet rs = st.executeQuery("SELECT pg_current_xact_id()::text::bigint")) {
                rs.next();
                self = rs.getLong(1);
            }
            Set<Long> running = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT x FROM (SELECT pg_snapshot_xip(s)::text::bigint AS x "
                    + "FROM pg_current_snapshot() s UNION SELECT generate_series(pg_snapshot_xmax(s)::text::bigint, ? - 1) "
                    + "FROM pg_current_snapshot() s) r WHERE x <> ? LIMIT ?")) {
                ps.setLong(1, self);
                ps.setLong(2, self);
                ps.setInt(3, MAX_SWEEP_XIDS + 1);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        running.add(rs.getLong(1));
                    }
                }
            }
            Set<String> statements = new HashSet<>();
            try (PreparedStatement ps = c.prepareStatement(RUNNING_STATEMENTS + " LIMIT ?")) {
                ps.setInt(1, MAX_SWEEP_XIDS + 1);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        statements.add(rs.getString(1));
                    }
                }
            }
            if (running.size() + statements.size() > MAX_SWEEP_XIDS) {
                LOG.info("more than {} transactions are in progress: the sweep of this node's DDL intents ordered up to "
                        + "GSN {} waits for fewer", MAX_SWEEP_XIDS, sweepBefore);
                return null;
            }
            return new Running(running, statements);
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    /**
     * Statements of other sessions that may run several transactions (the CONCURRENTLY forms), as
     * {@code <pid>@<start>}: the start is the statement's, as its intent recorded it ({@code statement_timestamp()}).
     */
    private static final String RUNNING_STATEMENTS = "SELECT s FROM (SELECT pid || '@' || (extract(epoch FROM "
            + "query_start) * 1000000)::bigint AS s, query FROM pg_stat_activity WHERE datname = current_database() "
            + "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND state <> 'idle') a "
            + "WHERE query ~* 'concurrently'";

    /** Those of {@code kept} still in progress. */
    private Running stillRunning(Running kept) throws SQLException {
        Set<Long> running = new HashSet<>();
        try (PreparedStatement ps = connection().prepareStatement(
                "SELECT x FROM unnest(?::bigint[]) x WHERE pg_xact_status(x::text::xid8) = 'in progress'")) {
            ps.setArray(1, connection().createArrayOf("bigint", kept.xids().toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    running.add(rs.getLong(1));
                }
            }
        }
        Set<String> statements = new HashSet<>();
        if (!kept.statements().isEmpty()) {
            try (PreparedStatement ps = connection().prepareStatement(RUNNING_STATEMENTS + " AND s = ANY(?)")) {
                ps.setArray(1, connection().createArrayOf("text", kept.statements().toArray()));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        statements.add(rs.getString(1));
                    }
                }
            }
        }
        return new Running(running, statements);
    }

    /** Whether the intent's transaction, or its statement (CREATE INDEX CONCURRENTLY runs several), still runs. */
    private boolean inProgress(Intent i) throws SQLException {
        try (PreparedStatement ps = connection().prepareStatement("SELECT pg_xact_status(?::text::xid8) = 'in progress' "
                + "OR EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = ? AND state <> 'idle' "
                + "AND (extract(epoch FROM query_start) * 1000000)::bigint = ?)")) {
            ps.setLong(1, i.xid());
            ps.setInt(2, i.pid());
            ps.setLong(3, i.statementStart());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private void release(Intent i) throws SQLException {
        emit(RELEASE + i.id());
        synchronized (this) {
            released.put(i.id(), System.nanoTime());
        }
        LOG.info("DDL intent {} (GSN {}): its transaction {} ended without ending it; released", i.id(), i.gsn(), i.xid());
    }

    /** Writes {@code token} as a non-transactional message the capture turns into a record of this node. */
    private void emit(String token) throws SQLException {
        Connection c = connection();
        String sql = c.getMetaData().getDatabaseMajorVersion() >= 17
                ? "SELECT pg_logical_emit_message(false, ?, ?, true)" : "SELECT pg_logical_emit_message(false, ?, ?)";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, Domain.SYNC_WAIT_PREFIX);
            ps.setString(2, token);
            ps.execute();
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null) {
            connection = connector.open();
        }
        return connection;
    }

    private void closeConnection() {
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                LOG.debug("closing the DDL intent connection: {}", e.getMessage());
            }
            connection = null;
        }
    }

    @Override
    public void close() {
        closeConnection();
    }
}
