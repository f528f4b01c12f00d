package io.chorus.coordinator.sidecar;

import io.chorus.changeset.ChorusException;
import io.chorus.coordinator.domain.Domain;
import io.chorus.coordinator.domain.DomainState;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

/**
 * The forced bootstrap (DESIGN §7) as the sidecar serves it for one database: a request of
 * {@code chorus.force_bootstrap(confirm => true)}, or the {@code --force-bootstrap} flag of {@code chorus run} for a
 * database whose SQL functions cannot help (its domain waits for a majority that is gone). Both run
 * {@link Domain#forceBootstrap} on the database's start thread, so never beside a start or a restart of its domain.
 *
 * <p>Thread-safe: {@link #requested} and {@link #report} are called by the control thread (which owns the
 * connection), the bootstrap itself runs on the start executor and publishes its outcome through volatile fields.
 */
final class ForcedBootstrapControl {
    private static final Logger LOG = LogManager.getLogger(ForcedBootstrapControl.class);
    private static final Duration JOIN_WAIT = Duration.ofMinutes(10);

    private final String node;
    private final String database;
    private final ExecutorService starter;
    private final Supplier<Domain> domain;
    private volatile long request;
    private volatile boolean finished;
    private volatile String error;

    ForcedBootstrapControl(String node, String database, ExecutorService starter, Supplier<Domain> domain) {
        this.node = node;
        this.database = database;
        this.starter = starter;
        this.domain = domain;
    }

    /** A confirmed request from SQL: marked running, performed on the start thread; {@link #report} answers it. */
    void requested(Connection c, long id) throws SQLException {
        if (request != 0) {
            DatabaseControl.request(c, id, "failed", "force_bootstrap", "forced bootstrap request " + request
                    + " is still running; wait for it with SELECT chorus.wait_ready()");
            return;
        }
        LOG.warn("database {}: forced bootstrap requested through SQL (request {})", database, id);
        DatabaseControl.request(c, id, "running", "force_bootstrap", null);
        finished = false;
        error = null;
        request = id;
        starter.submit(() -> {
            context();
            try {
                force(domain.get());
            } catch (ChorusException e) {
                error = e.getMessage();
            } catch (RuntimeException e) {
                error = "forced bootstrap of database " + database + " failed: " + e;
                LOG.error("{}", error, e);
            } finally {
                finished = true;
            }
        });
    }

    /** Writes the outcome of a finished request into {@code chorus.requests}; control thread. */
    void report(Connection c) throws SQLException {
        long id = request;
        if (id == 0 || !finished) {
            return;
        }
        DatabaseControl.request(c, id, error == null ? "done" : "failed", "force_bootstrap", error);
        request = 0;
    }

    /**
     * The {@code --force-bootstrap} flag: once the domain started, waits up to {@code after} for a primary component
     * and, without one, performs the confirmed forced bootstrap. Queued behind the domain's start on the start thread.
     * A refusal or failure goes to {@code refused} with its message (the sidecar then exits non-zero).
     */
    void atStart(Duration after, Consumer<String> refused) {
        starter.submit(() -> {
            context();
            try {
                Domain d = awaitStarted();
                if (awaitPrimary(d, after)) {
                    LOG.warn("database {}: the group has a primary component; --force-bootstrap is ignored", database);
                    return;
                }
                LOG.warn("database {}: no primary component within {} s: --force-bootstrap runs the forced bootstrap",
                        database, after.toSeconds());
                force(d);
            } catch (ChorusException e) {
                refused.accept("--force-bootstrap: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    private void force(Domain d) {
        if (d == null) {
            throw new ChorusException("database " + database + " on " + node + " is not enabled in a group: nothing to "
                    + "bootstrap (SELECT chorus.enable('<group>') enables it)");
        }
        String acted = d.forceBootstrap();
        LOG.warn("database {}: forced bootstrap done ({})", database, acted);
    }

    /** The domain once its start returned (it delivers, or it failed: then the failure is thrown). */
    private Domain awaitStarted() throws InterruptedException {
        long deadline = System.nanoTime() + JOIN_WAIT.toNanos();
        while (true) {
            Domain d = domain.get();
            DomainState s = d == null ? null : d.state();
            if (s == DomainState.ONLINE || s == DomainState.NON_PRIMARY) {
                return d;
            }
            if (d == null || s == DomainState.FAILED || s == DomainState.OFFLINE) {
                throw new ChorusException("database " + database + " on " + node + " did not start ("
                        + (d == null ? "not enabled in a group" : s + ": " + d.status().lastError())
                        + "): the forced bootstrap did not run; nothing was changed");
            }
            if (System.nanoTime() > deadline) {
                throw new ChorusException("database " + database + " on " + node + " is still " + s + " ("
                        + d.status().phase() + ") after " + JOIN_WAIT.toMinutes() + " minutes: the forced bootstrap "
                        + "did not run; nothing was changed");
            }
            tick();
        }
    }

    /** Whether the domain is in a primary component within {@code wait}. */
    private static boolean awaitPrimary(Domain d, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (d.state() != DomainState.ONLINE) {
            if (d.state() != DomainState.NON_PRIMARY || System.nanoTime() > deadline) {
                return false;
            }
            tick();
        }
        return true;
    }

    /** The domain tells no one of its state changes: it is read again every 100 ms, each wait bounded. */
    private static void tick() throws InterruptedException {
        Object o = new Object();
        synchronized (o) {
            TimeUnit.MILLISECONDS.timedWait(o, 100);
        }
    }

    private void context() {
        ThreadContext.put("node", node);
        ThreadContext.put("db", database);
    }
}
