package io.chorus.recovery;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.RelationName;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyOut;

/**
 * Copies tables from the donor's exported snapshot into the joiner with {@code COPY ... (FORMAT binary)}, several
 * tables at once: each worker imports the snapshot into its own REPEATABLE READ transaction on the donor and streams
 * the rows into a transaction on the joiner that runs in replica mode (no triggers, so foreign keys are not checked
 * while tables arrive in any order). The joiner's tables must be empty (the transfer truncates them first). Progress
 * is published after every chunk of a few MB. Blocking; one copier per transfer.
 */
final class TableCopier {
    private static final Logger LOG = LogManager.getLogger(TableCopier.class);
    private static final long PUBLISH_EVERY_BYTES = 4L << 20;

    private final Connector donor;
    private final Connector joiner;
    private final String snapshotId;
    private final int workers;
    private final AtomicLong rows = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicInteger tablesDone = new AtomicInteger();

    TableCopier(Connector donor, Connector joiner, String snapshotId, int workers) {
        this.donor = donor;
        this.joiner = joiner;
        this.snapshotId = snapshotId;
        this.workers = Math.max(1, workers);
    }

    /** Copies every table; returns the final progress. Throws naming the table that failed. */
    TransferProgress copy(List<DonorSchema.Table> tables, NodeId from, Gsn gsn, Consumer<TransferProgress> progress)
            throws SQLException, InterruptedException {
        long estimated = tables.stream().mapToLong(DonorSchema.Table::bytes).sum();
        long started = System.nanoTime();
        Runnable publish = () -> progress.accept(new TransferProgress(from, gsn, tablesDone.get(), tables.size(),
                rows.get(), bytes.get(), estimated, Duration.ofNanos(System.nanoTime() - started)));
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(workers, Math.max(1, tables.size())), r -> {
            Thread t = new Thread(r, "chorus-transfer-copy");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (DonorSchema.Table t : tables) {
                futures.add(pool.submit(() -> {
                    copyTable(t, publish);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get(6, TimeUnit.HOURS);
                } catch (ExecutionException e) {
                    Throwable c = e.getCause();
                    if (c instanceof SQLException s) {
                        throw s;
                    }
                    throw new ChorusException("table copy failed: " + c.getMessage(), c);
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new ChorusException("a table copy did not finish within 6 hours", e);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        publish.run();
        return new TransferProgress(from, gsn, tablesDone.get(), tables.size(), rows.get(), bytes.get(), estimated,
                Duration.ofNanos(System.nanoTime() - started));
    }

    private void copyTable(DonorSchema.Table t, Runnable publish) throws SQLException {
        String cols = t.copyColumns();
        try (Connection src = donor.connect("chorus-transfer-copy"); Connection dst = joiner.connect("chorus-transfer-copy")) {
            src.setAutoCommit(false);
            dst.setAutoCommit(false);
            try (Statement st = src.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                st.execute("SET TRANSACTION SNAPSHOT '" + snapshotId.replace("'", "''") + "'");
            }
            try (Statement st = dst.createStatement()) {
                st.execute("SET LOCAL session_replication_role = replica");
            }
            long n = stream(src, dst, "COPY " + t.name().quoted() + " (" + cols + ") TO STDOUT (FORMAT binary)",
                    "COPY " + t.name().quoted() + " (" + cols + ") FROM STDIN (FORMAT binary)", publish);
            dst.commit();
            src.rollback();
            rows.addAndGet(n);
            tablesDone.incrementAndGet();
            LOG.info("copied {}: {} rows", t.name(), n);
            publish.run();
        } catch (SQLException e) {
            throw new SQLException("copy of table " + t.name() + " failed: " + e.getMessage(), e.getSQLState(), e);
        }
    }

    /** Streams one COPY out of {@code src} into {@code dst}; returns the rows written. */
    long stream(Connection src, Connection dst, String out, String in, Runnable publish) throws SQLException {
        CopyOut reader = src.unwrap(PGConnection.class).getCopyAPI().copyOut(out);
        CopyIn writer = dst.unwrap(PGConnection.class).getCopyAPI().copyIn(in);
        long sinceLast = 0;
        try {
            byte[] buf;
            while ((buf = reader.readFromCopy()) != null) {
                writer.writeToCopy(buf, 0, buf.length);
                bytes.addAndGet(buf.length);
                sinceLast += buf.length;
                if (sinceLast >= PUBLISH_EVERY_BYTES) {
                    sinceLast = 0;
                    publish.run();
                }
            }
            return writer.endCopy();
        } finally {
            if (reader.isActive()) {
                reader.cancelCopy();
            }
            if (writer.isActive()) {
                writer.cancelCopy();
            }
        }
    }

    /** Reads one relation as of the snapshot into {@code dst}, e.g. the conflict log; returns the rows. */
    static long copyQuery(Connection src, Connection dst, String selectSql, RelationName target, String columns)
            throws SQLException {
        TableCopier c = new TableCopier(null, null, "", 1);
        return c.stream(src, dst, "COPY (" + selectSql + ") TO STDOUT (FORMAT binary)",
                "COPY " + target.quoted() + " (" + columns + ") FROM STDIN (FORMAT binary)", () -> { });
    }
}
