package io.chorus.coordinator.sidecar;

import io.chorus.coordinator.config.NodeConfig;
import io.chorus.coordinator.domain.Domain;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

/**
 * The process beside one PostgreSQL instance: serves every configured database (one {@link DatabaseControl} each,
 * and a {@link Domain} once the database is enabled). {@link #run()} blocks until {@link #close()}; SIGTERM closes it
 * cleanly through a shutdown hook installed by the command.
 */
public final class Sidecar implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Sidecar.class);

    private final NodeConfig cfg;
    private final List<DatabaseControl> controls = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);

    public Sidecar(NodeConfig cfg) {
        this.cfg = cfg;
    }

    /** Starts serving the configured databases; returns at once. */
    public synchronized void start() {
        ThreadContext.put("node", cfg.node().value());
        LOG.info("sidecar {} starting: {}", cfg.node(), cfg.describe());
        for (String db : cfg.postgres().databases()) {
            DatabaseControl c = new DatabaseControl(cfg, db);
            controls.add(c);
            c.start();
        }
    }

    /** Blocks until {@link #close()}. */
    public void await() throws InterruptedException {
        stopped.await();
    }

    /** The domain of a database, or null when it is not enabled (for tests and the demo). */
    public Domain domain(String database) {
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
        for (DatabaseControl c : controls) {
            c.close();
        }
        stopped.countDown();
        LOG.info("sidecar {} stopped", cfg.node());
    }
}
