package io.chorus.coordinator.sidecar;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.coordinator.domain.Domain;
import io.chorus.coordinator.domain.DomainState;
import io.chorus.coordinator.domain.DomainStatus;
import io.chorus.sql.SqlSurface;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The sidecar's side of the SQL control surface for one database: installs the {@code chorus} schema, listens for
 * requests ({@code NOTIFY chorus_control}), starts and stops the database's {@link Domain}, publishes the node's state
 * every second (the heartbeat that {@code chorus.status()} checks), and answers read barriers. One named thread;
 * reconnects with a bounded backoff when the database goes away.
 */
final class DatabaseControl implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(DatabaseControl.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final NodeConfig cfg;
    private final String database;
    private final Thread thread;
    private final ExecutorService starter;
    private volatile boolean running = true;
    private volatile Domain domain;
    private volatile String startError;
    private volatile long startingRequest;
    private volatile String phase;
    private final ForcedBootstrapControl forced;
    /** {@code --force-bootstrap}: the wait for a primary component before it forces one, or null. */
    private final java.time.Duration forceAfter;
    private final java.util.function.Consumer<String> forceRefused;

    /**
     * @param forceAfter   with {@code --force-bootstrap}, how long the domain waits for a primary component at start
     *                     before it forces one (null without the flag)
     * @param forceRefused receives the message when that forced bootstrap is refused or fails
     */
    DatabaseControl(NodeConfig cfg, String database, java.time.Duration forceAfter,
                    java.util.function.Consumer<String> forceRefused) {
        this.cfg = cfg;
        this.database = database;
        this.thread = new Thread(this::run, "chorus-control-" + database);
        this.starter = Executors.newSingleThreadExecutor(r -> new Thread(r, "chorus-start-" + database));
        this.forced = new ForcedBootstrapControl(cfg.node().value(), database, starter, () -> domain);
        this.forceAfter = forceAfter;
        this.forceRefused = forceRefused;
    }

    void start() {
        thread.start();
    }

    private void run() {
        ThreadContext.put("node", cfg.node().value());
        ThreadContext.put("db", database);
        long backoff = 500;
        while (running) {
            try (Connection c = connect()) {
                SqlSurface.install(c);
                try (Statement st = c.createStatement()) {
                    st.execute("LISTEN chorus_control");
                }
                LOG.info("serving database {} (SQL surface version {})", database, SqlSurface.VERSION);
                resumeIfEnabled(c);
                backoff = 500;
                loop(c);
            } catch (SQLException | ChorusException e) {
                if (!running) {
                    return;
                }
                LOG.warn("control connection to {} failed: {}; retrying in {} ms", database, e.getMessage(), backoff);
                if (!pause(backoff)) {
                    return;
                }
                backoff = Math.min(backoff * 2, 10_000);
            }
        }
    }

    private void loop(Connection c) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        long lastPublish = 0;
        while (running) {
            PGNotification[] notes = pg.getNotifications(100);
            boolean asked = notes != null && notes.length > 0;
            if (asked || startingRequest != 0 || System.nanoTime() - lastPublish > 1_000_000_000L) {
                handleRequests(c);
            }
            answerBarriers(c);
            restartIfDue();
            // after a request the new state is published at once: wait_ready and enable read it
            if (asked || System.nanoTime() - lastPublish > 1_000_000_000L) {
                publish(c);
                lastPublish = System.nanoTime();
            }
        }
    }

    private void resumeIfEnabled(Connection c) throws SQLException {
        if (domain != null) {
            return;
        }
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT (SELECT value FROM chorus.meta WHERE key = 'group_name'), "
                        + "(SELECT value FROM chorus.meta WHERE key = 'enabled'), "
                        + "(SELECT value FROM chorus.meta WHERE key = 'mode')")) {
            rs.next();
            if (rs.getString(1) != null && "true".equals(rs.getString(2))) {
                LOG.info("database {} was enabled in group {}: rejoining", database, rs.getString(1));
                startDomain(0, rs.getString(1), false, mode(rs.getString(3)));
                if (forceAfter != null) {
                    forced.atStart(forceAfter, forceRefused);
                }
            } else if (forceAfter != null) {
                LOG.warn("database {} is not enabled in a group: --force-bootstrap has nothing to do for it", database);
            }
        }
    }

    private void handleRequests(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT id, kind, group_name, options::text FROM chorus.requests WHERE state = 'queued' ORDER BY id")) {
            while (rs.next()) {
                long id = rs.getLong(1);
                String kind = rs.getString(2);
                String group = rs.getString(3);
                Map<?, ?> options = parse(rs.getString(4));
                switch (kind) {
                    case "enable" -> enable(c, id, group, Boolean.TRUE.equals(options.get("bootstrap")),
                            mode(String.valueOf(options.get("mode"))));
                    case "force_bootstrap" -> forced.requested(c, id);
                    default -> disable(c, id, Boolean.TRUE.equals(options.get("keep_slot")));
                }
            }
        }
        forced.report(c);
        if (startingRequest != 0) {
            Domain d = domain;
            if (startError != null) {
                request(c, startingRequest, "failed", phase, startError);
                startingRequest = 0;
            } else if (d != null && (d.state() == DomainState.ONLINE || d.state() == DomainState.NON_PRIMARY)) {
                // started: a RECEIVING or CATCHING_UP domain may still fail its transfer or catch-up
                request(c, startingRequest, "done", "online", null);
                startingRequest = 0;
            } else if (d != null && d.state() == DomainState.FAILED) {
                request(c, startingRequest, "failed", phase, d.status().lastError());
                startingRequest = 0;
            } else {
                request(c, startingRequest, "running", phase, null);
            }
        }
    }

    private void enable(Connection c, long id, String group, boolean bootstrap, NodeConfig.Mode mode) throws SQLException {
        if (domain != null && domain.state() != DomainState.FAILED) {
            request(c, id, "done", "online", null);
            return;
        }
        meta(c, "enabled", "true");
        meta(c, "mode", mode.name().toLowerCase());
        request(c, id, "running", "connect", null);
        startDomain(id, group, bootstrap, mode);
    }

    /** Restarts wait a back-off that starts again from its first value once a domain stayed ONLINE this long. */
    private static final java.time.Duration HEALTHY_FOR = java.time.Duration.ofSeconds(30);
    /** A stopped domain and what it served: what a restart needs. */
    private record Stopped(Domain domain, String group, NodeConfig.Mode mode) {
    }

    private final RestartSchedule<Stopped> restarts = new RestartSchedule<>(HEALTHY_FOR);

    /**
     * A domain that stopped because it needs a full transfer starts again (which runs the transfer); one whose
     * server lost helper commits in a crash, or does not accept connections (shutting down, down, starting), starts
     * again from its durable watermark; one that failed to start without an operator asking (a sidecar restart, e.g.
     * while the rest of the cluster is still down) tries again. Each after the {@link RestartSchedule}'s back-off.
     */
    private void scheduleRestart(Domain failed, String group, NodeConfig.Mode mode, String why) {
        long delay = restarts.schedule(new Stopped(failed, group, mode), why, System.nanoTime());
        LOG.info("database {} starts again in {} ms ({}; a full transfer runs first if one is needed)", database,
                delay, why);
        synchronized (this) {
            notifyAll(); // a control thread waiting to reconnect takes the restart when it is due
        }
    }

    /** Starts a due restart; also resets the back-off once the current domain stayed healthy. Control thread only. */
    private void restartIfDue() {
        Domain current = domain;
        if (restarts.health(current != null && current.state() == DomainState.ONLINE, System.nanoTime())) {
            LOG.info("database {} stayed ONLINE for {} s: the next restart waits {} ms again", database,
                    HEALTHY_FOR.toSeconds(), RestartSchedule.FIRST_BACKOFF_MS);
        }
        RestartSchedule.Due<Stopped> due = restarts.takeDue(System.nanoTime());
        if (due == null) {
            return;
        }
        Stopped s = due.failed();
        if (current == null || current != s.domain()) {
            return; // disabled or re-enabled in the meantime
        }
        starter.submit(current::close); // idempotent
        startDomain(0, s.group(), false, s.mode());
    }

    private void startDomain(long requestId, String group, boolean bootstrap, NodeConfig.Mode mode) {
        startError = null;
        startingRequest = requestId;
        phase = "connect";
        Domain[] self = new Domain[1];
        Domain d = new Domain(cfg, database, group, bootstrap, mode, e -> {
            LOG.error("domain {} stopped: {}", database, e.getMessage());
            String why = RestartSchedule.reasonToRestart(e);
            if (why != null) {
                scheduleRestart(self[0], group, mode, why);
            }
        });
        self[0] = d;
        domain = d;
        starter.submit(() -> {
            ThreadContext.put("node", cfg.node().value());
            ThreadContext.put("db", database);
            try {
                d.start(p -> phase = p);
            } catch (RuntimeException e) {
                startError = e.getMessage() == null ? e.toString() : e.getMessage();
                LOG.error("enable of {} in group {} failed in phase {}: {}", database, group, phase, startError);
                d.close();
                String why = RestartSchedule.reasonToRestart(e);
                if ((requestId == 0 || why != null) && domain == d) { // a needed transfer runs whoever started it
                    scheduleRestart(d, group, mode, why != null ? why : "it failed to rejoin in phase " + phase);
                }
            }
        });
    }

    private void disable(Connection c, long id, boolean keepSlot) throws SQLException {
        LOG.info("database {}: disable requested (request {}, slot {})", database, id, keepSlot ? "kept" : "dropped");
        Domain d = domain;
        domain = null;
        if (d != null) {
            d.close();
        }
        meta(c, "enabled", "false");
        io.chorus.recovery.LocalWriteRefusal.end(c); // a disable during a transfer leaves the database writable
        if (!keepSlot) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ? AND NOT active")) {
                ps.setString(1, "chorus_" + database);
                ps.execute();
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT pg_replication_origin_drop(roname) FROM pg_replication_origin WHERE starts_with(roname, ?)")) {
                ps.setString(1, Domain.helperOriginPrefix(database));
                ps.execute();
            }
            try (Statement st = c.createStatement()) {
                st.execute("DELETE FROM chorus.meta WHERE key IN ('group_name', 'group_identity')");
            }
            Domain.forgetCaptureState(cfg, database);
        }
        request(c, id, "done", "offline", null);
        LOG.info("database {} left its group (slot {})", database, keepSlot ? "kept" : "dropped");
    }

    private void answerBarriers(Connection c) throws SQLException {
        Domain d = domain;
        if (d == null) {
            return;
        }
        Gsn applied = d.appliedGsn();
        for (Iterator<Map.Entry<String, Gsn>> it = d.orderedBarriers().entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Gsn> b = it.next();
            if (b.getValue().isAfter(applied)) {
                continue;
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO chorus.barriers(token, gsn, applied_at) "
                    + "VALUES (?, ?, clock_timestamp()) ON CONFLICT (token) DO UPDATE SET gsn = excluded.gsn, applied_at = excluded.applied_at")) {
                ps.setString(1, b.getKey());
                ps.setLong(2, b.getValue().value());
                ps.execute();
            }
            it.remove();
        }
    }

    private void publish(Connection c) throws SQLException {
        Domain d = domain;
        DomainStatus s = d == null ? null : d.status();
        try (PreparedStatement ps = c.prepareStatement("UPDATE chorus.node_state SET node = ?, group_name = ?, state = ?, "
                + "phase = ?, view_id = ?, members = ?::jsonb, is_primary = ?, mode = ?, policy = ?, watermark = ?, "
                + "delivered = ?, queue_depth = ?, lag_gsn = ?, lag_ms = ?, conflicts = ?, last_error = ?, "
                + "bootstrap = ?::jsonb, heartbeat = clock_timestamp(), updated_at = clock_timestamp()")) {
            ps.setString(1, cfg.node().value());
            ps.setString(2, s == null ? null : s.group());
            String state = s == null ? "OFFLINE" : (startError != null ? "FAILED" : s.state().name());
            ps.setString(3, state);
            ps.setString(4, startError != null ? phase : (s == null ? null : (s.state() == DomainState.JOINING ? phase : s.phase())));
            ps.setString(5, s == null ? null : s.viewId());
            ps.setString(6, s == null ? "[]" : toJson(s.members()));
            ps.setBoolean(7, s != null && s.primary());
            ps.setString(8, s == null ? null : s.mode());
            ps.setString(9, s == null ? null : s.policy());
            ps.setLong(10, s == null ? 0 : s.watermark());
            ps.setLong(11, s == null ? 0 : s.delivered());
            ps.setInt(12, s == null ? 0 : s.queueDepth());
            ps.setLong(13, s == null ? 0 : s.lagGsn());
            ps.setLong(14, s == null ? 0 : s.lagMillis());
            ps.setLong(15, s == null ? 0 : s.conflicts());
            ps.setString(16, startError != null ? startError : (s == null ? null : s.lastError()));
            // what a forced bootstrap from here would do, for chorus.bootstrap_plan() and chorus.force_bootstrap()
            io.chorus.coordinator.domain.BootstrapAssessment plan = d == null ? null : d.bootstrapPlan();
            ps.setString(17, plan == null ? null : toJson(plan));
            ps.executeUpdate();
        }
    }

    private static String toJson(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (Exception e) {
            return "[]";
        }
    }

    private static Map<?, ?> parse(String json) {
        try {
            return JSON.readValue(json, Map.class);
        } catch (Exception e) {
            return Map.of();
        }
    }

    private static NodeConfig.Mode mode(String m) {
        return "sync".equalsIgnoreCase(m) ? NodeConfig.Mode.SYNC : NodeConfig.Mode.ASYNC;
    }

    static void request(Connection c, long id, String state, String phase, String error) throws SQLException {
        if (id == 0) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE chorus.requests SET state = ?, phase = ?, error = ?, updated_at = clock_timestamp() WHERE id = ?")) {
            ps.setString(1, state);
            ps.setString(2, phase);
            ps.setString(3, error);
            ps.setLong(4, id);
            ps.execute();
        }
    }

    private static void meta(Connection c, String key, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO chorus.meta(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
            ps.setString(1, key);
            ps.setString(2, value);
            ps.execute();
        }
    }

    private Connection connect() throws SQLException {
        return cfg.postgres().connect(database, "chorus-control");
    }

    private boolean pause(long ms) {
        synchronized (this) {
            long deadline = System.currentTimeMillis() + ms;
            long left;
            while (running && (left = deadline - System.currentTimeMillis()) > 0) {
                restartIfDue(); // the domain's restart does not wait for the control connection
                try {
                    wait(Math.min(left, 250));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return running;
    }

    String database() {
        return database;
    }

    Domain domain() {
        return domain;
    }

    @Override
    public void close() {
        running = false;
        synchronized (this) {
            notifyAll();
        }
        Domain d = domain;
        if (d != null) {
            d.close();
        }
        starter.shutdownNow();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
