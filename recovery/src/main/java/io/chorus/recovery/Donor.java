package io.chorus.recovery;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The donor side of a full transfer (DESIGN §7). Every member feeds it the records it delivers; when a
 * {@link TransferMessage.Request} names this member ({@link DonorChoice}), it exports a snapshot at a GSN boundary on
 * its own thread:
 * <ol>
 *   <li>hold the local writers ({@link TransferHold}); helpers keep applying;</li>
 *   <li>wait until every local commit has come back in total order, then close the {@link DeliveryGate} and wait
 *   until the helpers committed every delivered GSN {@code d};</li>
 *   <li>export the snapshot ({@link SnapshotExport}) and check that no local commit slipped in before it; else
 *   start over (bounded);</li>
 *   <li>open the gate, release the writers, offer the snapshot at GSN {@code d} through the log, keep it until the
 *   joiner says {@link TransferMessage.Done} (bounded).</li>
 * </ol>
 * The snapshot then holds exactly the changesets up to {@code d}: no local commit of this member ordered after it.
 * Writers wait only during steps 1 to 3 (reported as the hold time).
 *
 * <p>Thread-safe: {@link #onRecord} and {@link #onMessage} are called on the delivery thread, the work runs on one
 * named donor thread with a bounded queue (a request beyond it is answered with an error offer).
 */
public final class Donor implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Donor.class);
    private static final int ATTEMPTS = 5;
    private static final Duration HOLD_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration KEEP_SNAPSHOT = Duration.ofMinutes(30);
    /** How long the capture may take to catch up before the hold (nobody waits for it then). */
    private static final Duration PRE_SYNC = Duration.ofSeconds(60);

    /** Where joiners reach this member's PostgreSQL: must be reachable from every other member. */
    public record Endpoint(String host, int port, String database) {
    }

    private final NodeId self;
    private final Endpoint endpoint;
    private final Connector connector;
    private final DonorHooks hooks;
    private final DeliveryGate gate;
    private final DonorChoice choice = new DonorChoice();
    private final Map<String, CompletableFuture<Void>> done = new ConcurrentHashMap<>();
    private final ThreadPoolExecutor worker;
    private volatile long longestHoldMillis;

    public Donor(NodeId self, Endpoint endpoint, Connector connector, DonorHooks hooks, DeliveryGate gate) {
        this.self = self;
        this.endpoint = endpoint;
        this.connector = connector;
        this.hooks = hooks;
        this.gate = gate;
        this.worker = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(4), r -> {
            Thread t = new Thread(r, "chorus-donor-" + endpoint.database());
            t.setDaemon(true);
            return t;
        });
    }

    /** Every delivered record (replayed ones too), for the donor ranking; {@code watermark} when it is a W report. */
    public void onRecord(NodeId origin, Gsn watermark) {
        choice.observe(origin, watermark);
    }

    /** A transfer record delivered live (not replayed) at {@code gsn}. */
    public void onMessage(TransferMessage m, Gsn gsn) {
        if (m instanceof TransferMessage.Done d && d.donor().equals(self)) {
            CompletableFuture<Void> f = done.get(d.requestId());
            if (f != null) {
                f.complete(null);
            }
        } else if (m instanceof TransferMessage.Request r && self.equals(choice.choose(r))) {
            LOG.info("chosen as donor for {} (request {} attempt {} at GSN {})", r.joiner(), r.requestId(), r.attempt(), gsn);
            if (!hooks.online()) {
                hooks.append(TransferMessage.encode(failure(r, "donor " + self + " is not ONLINE")));
                return;
            }
            try {
                worker.execute(() -> donate(r));
            } catch (RejectedExecutionException e) {
                hooks.append(TransferMessage.encode(failure(r, "donor " + self + " is busy with other transfers")));
            }
        }
    }

    /** The longest time local writers were held for a snapshot so far, in milliseconds. */
    public long longestHoldMillis() {
        return longestHoldMillis;
    }

    private void donate(TransferMessage.Request r) {
        org.apache.logging.log4j.ThreadContext.put("node", self.value());
        CompletableFuture<Void> joinerDone = new CompletableFuture<>();
        done.put(r.requestId(), joinerDone);
        Exported exported = null;
        try {
            exported = export();
            hooks.append(TransferMessage.encode(new TransferMessage.Offer(r.joiner(), r.requestId(), self,
                    exported.gsn(), exported.snapshot().snapshotId(), endpoint.host(), endpoint.port(),
                    endpoint.database(), null)));
            joinerDone.get(KEEP_SNAPSHOT.toMillis(), TimeUnit.MILLISECONDS);
            LOG.info("joiner {} is done with snapshot {} (GSN {})", r.joiner(), exported.snapshot().snapshotId(),
                    exported.gsn());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (TimeoutException e) {
            LOG.warn("joiner {} did not finish with snapshot {} within {}; releasing it", r.joiner(),
                    exported.snapshot().snapshotId(), KEEP_SNAPSHOT);
        } catch (ExecutionException | RuntimeException | SQLException e) {
            String why = e instanceof SQLException s ? "[" + s.getSQLState() + "] " + s.getMessage() : e.getMessage();
            LOG.warn("cannot donate a snapshot to {}: {}", r.joiner(), why);
            hooks.append(TransferMessage.encode(failure(r, "donor " + self + " could not export a snapshot: " + why)));
        } finally {
            done.remove(r.requestId());
            if (exported != null) {
                exported.snapshot().close();
            }
        }
    }

    private record Exported(Gsn gsn, SnapshotExport snapshot) {
    }

    /**
     * Steps 1-3 of the class comment, retried when the boundary cannot be reached in time; each attempt allows more
     * time (a loaded group needs longer to order the local commits in flight).
     */
    private Exported export() throws SQLException, InterruptedException {
        String last = "no attempt";
        for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
            Duration limit = HOLD_TIMEOUT.multipliedBy(attempt);
            String[] why = {null};
            try {
                hooks.syncCapture(PRE_SYNC); // catch up before holding anyone: the sync under the hold is then short
            } catch (ChorusException e) {
                last = e.getMessage();
                LOG.info("snapshot attempt {} of {}: {}; trying again", attempt, ATTEMPTS, last);
                continue;
            }
            try (TransferHold hold = TransferHold.take(connector, limit)) {
                Exported e = atBoundary(limit, why);
                long held = hold.held().toMillis();
                if (e != null) {
                    longestHoldMillis = Math.max(longestHoldMillis, held);
                    LOG.info("snapshot {} exported at GSN {}; local writers were held {} ms", e.snapshot().snapshotId(),
                            e.gsn(), held);
                    return e;
                }
                last = why[0] + " (writers held " + held + " ms)";
            } catch (SQLException e) {
                if (!"55P03".equals(e.getSQLState())) {
                    throw e;
                }
                last = e.getMessage();
            }
            LOG.info("snapshot attempt {} of {}: {}; trying again", attempt, ATTEMPTS, last);
        }
        throw new ChorusException("no snapshot at a GSN boundary after " + ATTEMPTS + " attempts: " + last);
    }

    /** With writers held: the snapshot at a GSN boundary, or null (and why[0] says why) when not reached in time. */
    private Exported atBoundary(Duration limit, String[] why) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        try {
            hooks.syncCapture(limit);
        } catch (ChorusException e) {
            why[0] = e.getMessage();
            return null;
        }
        if (!hooks.awaitLocalsDelivered(deadline)) {
            why[0] = "this member's local commits were not all ordered within " + limit.toSeconds() + " s";
            return null;
        }
        if (!gate.close(limit)) {
            why[0] = "the delivery thread did not pause within " + limit.toSeconds() + " s";
            return null;
        }
        try {
            Gsn d = hooks.delivered();
            if (!hooks.awaitApplied(d, deadline)) {
                why[0] = "the helpers did not commit up to GSN " + d + " within " + limit.toSeconds() + " s";
                return null;
            }
            SnapshotExport s = SnapshotExport.open(connector);
            try {
                hooks.syncCapture(limit);
            } catch (ChorusException e) {
                s.close();
                why[0] = e.getMessage();
                return null;
            }
            if (!hooks.awaitLocalsDelivered(System.nanoTime())) {
                s.close(); // a local commit slipped in before the export: it would be in the snapshot, ordered after d
                why[0] = "a local commit slipped in before the export";
                return null;
            }
            return new Exported(d, s);
        } finally {
            gate.open();
        }
    }

    private TransferMessage.Offer failure(TransferMessage.Request r, String why) {
        return new TransferMessage.Offer(r.joiner(), r.requestId(), self, Gsn.NONE, null, null, 0, null, why);
    }

    /** Stops the donor thread; open snapshots are released. */
    @Override
    public void close() {
        worker.shutdownNow();
        done.values().forEach(f -> f.cancel(true));
    }
}
