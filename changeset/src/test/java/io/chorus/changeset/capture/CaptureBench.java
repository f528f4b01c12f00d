package io.chorus.changeset.capture;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.capture.CaptureConfig.SlotMode;
import io.chorus.testkit.PgServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark harness (not a test): decoded rows per second through {@link SlotCapture} versus PostgreSQL's own
 * pg_recvlogical consuming identical pgoutput slots over the same WAL, in the same run, in the order recv, java, java,
 * recv. All slots are created before the data is written, so each decodes the same transactions from the server's WAL.
 * The figure includes the server's decoding, which both sides pay.
 *
 * <p>Run (from changeset/): {@code mvn -o -q test-compile dependency:build-classpath -Dmdep.includeScope=test
 * -Dmdep.outputFile=target/cp.txt && java -cp target/test-classes:target/classes:$(cat target/cp.txt)
 * io.chorus.changeset.capture.CaptureBench [ROWS [ROWS_PER_TX]]} (default 500000 rows, 1000 per transaction).
 */
public final class CaptureBench {
    private CaptureBench() {
    }

    public static void main(String[] args) throws Exception {
        int rows = args.length > 0 ? Integer.parseInt(args[0]) : 500_000;
        int perTx = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        try (PgServer pg = PgServer.start("bench")) {
            pg.createDatabase("bench");
            CaptureTestSupport.exec(pg, "bench", "CREATE TABLE t(id int PRIMARY KEY, a text, b int, c timestamptz)",
                    "CREATE PUBLICATION chorus FOR ALL TABLES WITH (publish_via_partition_root = true)",
                    "SELECT pg_create_logical_replication_slot('bench_java1', 'pgoutput')",
                    "SELECT pg_create_logical_replication_slot('bench_recv1', 'pgoutput')",
                    "SELECT pg_create_logical_replication_slot('bench_java2', 'pgoutput')",
                    "SELECT pg_create_logical_replication_slot('bench_recv2', 'pgoutput')");
            long t0 = System.nanoTime();
            for (int from = 1; from <= rows; from += perTx) {
                CaptureTestSupport.exec(pg, "bench", "INSERT INTO t SELECT i, md5(i::text), i % 1000, now() FROM generate_series("
                        + from + ", " + Math.min(rows, from + perTx - 1) + ") i");
            }
            Lsn end = Lsn.parse(CaptureTestSupport.query(pg, "bench", "SELECT pg_current_wal_lsn()::text"));
            System.out.printf("wrote %d rows in %d transactions in %.1f s; WAL end %s%n", rows, (rows + perTx - 1) / perTx,
                    (System.nanoTime() - t0) / 1e9, end);
            // ABBA order so that neither side always meets the colder server caches
            double recv = pgRecvLogical(pg, "bench_recv1", end, rows);
            double java = slotCapture(pg, "bench_java1", rows);
            java += slotCapture(pg, "bench_java2", rows);
            recv += pgRecvLogical(pg, "bench_recv2", end, rows);
            java /= 2;
            recv /= 2;
            System.out.printf("SlotCapture:    %,.0f rows/s (mean of 2)%npg_recvlogical: %,.0f rows/s (mean of 2, raw pgoutput bytes to /dev/null)%n"
                    + "ratio SlotCapture / pg_recvlogical = %.2f%n", java, recv, java / recv);
        }
    }

    private static double slotCapture(PgServer pg, String slot, int rows) throws IOException, InterruptedException {
        AtomicLong decoded = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        CaptureListener counter = new CaptureListener() {
            @Override
            public void onLocalChangeSet(ChangeSet cs) {
                if (decoded.addAndGet(cs.rowCount()) >= rows) {
                    done.countDown();
                }
            }

            @Override
            public void onHelperCommit(String originName, Gsn appliedGsn, Lsn commitLsn) {
            }
        };
        CaptureConfig cfg = CaptureConfig.of(pg.jdbcUrl("bench"), "bench", NodeId.of("bench"), Files.createTempDirectory("bench-"))
                .withSlot(slot, SlotMode.EXISTING);
        long t0 = System.nanoTime();
        try (SlotCapture cap = new SlotCapture(cfg, counter)) {
            cap.start();
            if (!done.await(600, TimeUnit.SECONDS)) {
                throw new IllegalStateException("SlotCapture decoded " + decoded.get() + " of " + rows + " rows in 600 s");
            }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("SlotCapture decoded %d rows in %.2f s%n", decoded.get(), s);
        return rows / s;
    }

    private static double pgRecvLogical(PgServer pg, String slot, Lsn end, int rows) throws IOException, InterruptedException {
        Path bin = pg.home().resolve("bin/pg_recvlogical");
        if (!Files.isExecutable(bin)) {
            bin = Path.of("/usr/lib/postgresql/15/bin/pg_recvlogical");
        }
        List<String> cmd = new ArrayList<>(List.of(bin.toString(), "-d", pg.uri("bench"), "--slot", slot, "--start",
                "-o", "proto_version=1", "-o", "publication_names=chorus", "-o", "messages=true", "-E", end.toString(),
                "-f", "/dev/null", "--no-loop"));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("pg_recvlogical failed: " + output);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("pg_recvlogical (%s) read %d rows' WAL up to %s in %.2f s%n", bin, rows, end, s);
        return rows / s;
    }

}
