package io.chorus.it.bench;

import io.chorus.it.harness.Sql;
import io.chorus.it.workload.WorkloadRunner;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Replication lag as a reader sees it: every 100 ms the writer node stamps its heartbeat row (seq, clock_timestamp());
 * every 20 ms the reader node reads that row, and the first time it sees a new seq the lag sample is the reader's
 * clock minus the stamp (same machine, same clock; resolution 20 ms). Two named threads; {@link #stop()} ends them.
 * A stamp or a read that fails (under all-writers TPC-B a heartbeat update can lose a deadlock to a helper) is
 * counted and the probe goes on: a periodic task that throws is never run again, and an earlier version measured
 * the lag of a whole phase from the two samples before its first failed stamp.
 */
final class LagProbe {
    /** One lag observation: seconds since the probe started, lag in milliseconds. */
    record Sample(double atSeconds, double lagMs) {
    }

    private final ScheduledExecutorService threads = Executors.newScheduledThreadPool(2, r -> {
        Thread t = new Thread(r, "bench-lag-probe");
        t.setDaemon(true);
        return t;
    });
    private final List<Sample> samples = new ArrayList<>();
    private final long t0 = System.nanoTime();
    private final Connection writer;
    private final Connection reader;
    private final int writerNode;
    private long seq;
    private long lastSeen;
    private final java.util.concurrent.atomic.AtomicInteger failures = new java.util.concurrent.atomic.AtomicInteger();
    private volatile String lastFailure;

    private LagProbe(Connection writer, Connection reader, int writerNode) {
        this.writer = writer;
        this.reader = reader;
        this.writerNode = writerNode;
    }

    static LagProbe start(WorkloadRunner.Nodes nodes, int writerNode, int readerNode) throws SQLException {
        LagProbe p = new LagProbe(nodes.open(writerNode), nodes.open(readerNode), writerNode);
        p.lastSeen = Sql.number(p.reader, "SELECT seq FROM bench_heartbeat WHERE node = " + writerNode);
        p.seq = Sql.number(p.writer, "SELECT seq FROM bench_heartbeat WHERE node = " + writerNode);
        p.threads.scheduleAtFixedRate(p::stamp, 0, 100, TimeUnit.MILLISECONDS);
        p.threads.scheduleAtFixedRate(p::observe, 10, 20, TimeUnit.MILLISECONDS);
        return p;
    }

    private void stamp() {
        try {
            Sql.exec(writer, "UPDATE bench_heartbeat SET seq = ?, at = clock_timestamp() WHERE node = ?", ++seq, writerNode);
        } catch (SQLException e) {
            failed("heartbeat on node" + writerNode, e);
        }
    }

    private void observe() {
        try (Statement st = reader.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT seq, extract(epoch FROM clock_timestamp() - at) * 1000 FROM bench_heartbeat WHERE node = " + writerNode)) {
            rs.next();
            long s = rs.getLong(1);
            if (s > lastSeen) {
                lastSeen = s;
                synchronized (samples) {
                    samples.add(new Sample((System.nanoTime() - t0) / 1e9, rs.getDouble(2)));
                }
            }
        } catch (SQLException e) {
            failed("lag probe read", e);
        }
    }

    /** Stamps and reads that failed so far, and the last failure (null if none). */
    String failures() {
        return failures.get() == 0 ? null : failures.get() + " heartbeat stamps or reads failed, the last: " + lastFailure;
    }

    private void failed(String what, SQLException e) {
        failures.incrementAndGet();
        lastFailure = what + " failed: " + e.getMessage();
    }

    /** Stops both threads, closes the connections and returns the samples in time order. */
    List<Sample> stop() throws InterruptedException, SQLException {
        threads.shutdownNow();
        threads.awaitTermination(10, TimeUnit.SECONDS);
        writer.close();
        reader.close();
        synchronized (samples) {
            if (samples.isEmpty() && failures.get() > 0) {
                throw new IllegalStateException("no lag sample: " + failures.get() + " stamps or reads failed, the last: "
                        + lastFailure);
            }
            return List.copyOf(samples);
        }
    }

    /** The {@code q}-quantile (0..1) of the lags, or NaN without samples. */
    static double quantile(List<Sample> samples, double q) {
        if (samples.isEmpty()) {
            return Double.NaN;
        }
        double[] lags = samples.stream().mapToDouble(Sample::lagMs).sorted().toArray();
        return lags[Math.min(lags.length - 1, (int) Math.floor(q * lags.length))];
    }
}
