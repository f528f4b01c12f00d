package io.chorus.coordinator.sidecar;

import io.chorus.coordinator.config.NodeConfig;
import io.chorus.coordinator.domain.Domain;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

/**
 * The process beside one PostgreSQL instance: serves every configured database (one {@link DatabaseControl} each,
 * and a {@link Domain} once the database is enabled). With {@code databases: ["*"]} it serves every database of the
 * instance that accepts connections (templates excepted), found again every {@value #DISCOVERY_SECONDS} s: a new
 * database gets the SQL surface within seconds, a dropped one is let go. {@link #await()} blocks until
 * {@link #close()}; SIGTERM closes it cleanly through a shutdown hook installed by the command. Thread-safe.
 */
public final class Sidecar implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Sidecar.class);

    /** The {@code postgres.databases} entry that means every database of the instance. */
    public static final String ALL_DATABASES = "*";
    static final int DISCOVERY_SECONDS = 5;

    private final NodeConfig cfg;
    private final java.time.Duration forceBootstrapAfter;
    private volatile String failure;
    private final List<DatabaseControl> controls = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private ScheduledExecutorService discovery;
    private FaultControl faultControl;

    public Sidecar(NodeConfig cfg) {
        this(cfg, null);
    }

    /**
     * A sidecar started with {@code --force-bootstrap}: each enabled database whose group has no primary component
     * within {@code forceBootstrapAfter} of its start is restarted from this node alone ({@code Domain.forceBootstrap},
     * DESIGN §7). When one is refused or fails, the sidecar stops and {@link #failure()} says why.
     *
     * @param forceBootstrapAfter the wait for a primary component; null without the flag
     */
    public Sidecar(NodeConfig cfg, java.time.Duration forceBootstrapAfter) {
        this.cfg = cfg;
        this.forceBootstrapAfter = forceBootstrapAfter;
    }

    /** Why the sidecar stopped by itself (a refused {@code --force-bootstrap}), or null. */
    public String failure() {
        return failure;
    }

    /** A refused {@code --force-bootstrap}: logged, and the sidecar stops (on its own thread: the caller is one it closes). */
    private void abort(String why) {
        LOG.error("{}; the sidecar stops", why);
        failure = why;
        Thread t = new Thread(this::close, "chorus-abort");
        t.setDaemon(true);
        t.start();
    }

    /** Starts serving the configured databases; returns at once. */
    public synchronized void start() {
        ThreadContext.put("node", cfg.node().value());
        LOG.info("sidecar {} starting: {}", cfg.node(), cfg.describe());
        if (cfg.faultControl() != null) {
            faultControl = new FaultControl(cfg.node(), cfg.faultControl());
            faultControl.start();
        }
        if (cfg.postgres().databases().contains(ALL_DATABASES)) {
            discovery = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "chorus-discovery");
                t.setDaemon(true);
                return t;
            });
            discovery.scheduleWithFixedDelay(this::discover, 0, DISCOVERY_SECONDS, TimeUnit.SECONDS);
            return;
        }
        cfg.postgres().databases().forEach(this::serve);
    }

    private void serve(String db) {
        DatabaseControl c = new DatabaseControl(cfg, db, forceBootstrapAfter, this::abort);
        controls.add(c);
        c.start();
    }

    /** One discovery round: serves new databases, lets dropped ones go. Failures are logged and retried next round. */
    private void discover() {
        ThreadContext.put("node", cfg.node().value());
        Set<String> present = new TreeSet<>();
        try (Connection c = cfg.postgres().connect("postgres", "chorus_discovery"); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate")) {
            while (rs.next()) {
                present.add(rs.getString(1));
            }
        } catch (SQLException e) {
            LOG.warn("cannot list the databases of the instance (through database postgres): {}; retrying in {} s",
                    e.getMessage(), DISCOVERY_SECONDS);
            return;
        }
        synchronized (this) {
            if (stopped.getCount() == 0) {
                return;
            }
            for (Iterator<DatabaseControl> it = controls.iterator(); it.hasNext(); ) {
                DatabaseControl c = it.next();
                if (!present.contains(c.database())) {
                    LOG.info("database {} is gone: no longer served", c.database());
                    c.close();
                    it.remove();
                }
            }
            Set<String> served = served();
            for (String db : present) {
                if (!served.contains(db)) {
                    LOG.info("database {} found: serving it", db);
                    serve(db);
                }
            }
        }
    }

    /** The databases served now. */
    public synchronized Set<String> served() {
        Set<String> out = new TreeSet<>();
        controls.forEach(c -> out.add(c.database()));
        return out;
    }

    /** Blocks until {@link #close()}. */
    public void await() throws InterruptedException {
        stopped.await();
    }

    /** The domain of a database, or null when it is not enabled (for tests and the demo). */
    public synchronized Domain domain(String database) {
        for (DatabaseControl c : controls) {
            if (c.database().equals(database)) {
                return c.domain();
            }
        }
        return null;
    }

    @Override
    public synchronized void close() {
        if (stopped.getCount() == 0) {
            return;
        }
        LOG.info("sidecar {} stopping", cfg.node());
        if (discovery != null) {
            discovery.shutdownNow();
        }
        if (faultControl != null) {
            faultControl.close();
        }
        for (DatabaseControl c : controls) {
            c.close();
        }
        stopped.countDown();
        LOG.info("sidecar {} stopped", cfg.node());
    }
}
