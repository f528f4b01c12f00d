package io.chorus.changeset.capture;

import io.chorus.changeset.NodeId;
import io.chorus.testkit.PgServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/** Databases, SQL and captures for the capture tests. */
final class CaptureTestSupport {
    static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final AtomicInteger SEQ = new AtomicInteger();

    private CaptureTestSupport() {
    }

    static String newDatabase(PgServer pg, String prefix) throws SQLException {
        return pg.createDatabase(prefix + "_" + SEQ.incrementAndGet());
    }

    static void exec(PgServer pg, String db, String... sql) throws SQLException {
        try (Connection c = pg.connect(db); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    static String query(PgServer pg, String db, String sql) throws SQLException {
        try (Connection c = pg.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static Path workDir(String name) {
        try {
            return Files.createTempDirectory("capture-" + name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static CaptureConfig config(PgServer pg, String db) {
        return CaptureConfig.of(pg.jdbcUrl(db), db, NodeId.of("n1"), workDir(db));
    }

    /** Starts a capture that marks every changeset delivered as soon as it arrives. */
    static SlotCapture startDelivering(CaptureConfig cfg, RecordingListener rec) {
        SlotCapture cap = new SlotCapture(cfg, rec);
        rec.deliverTo = cap;
        cap.start();
        return cap;
    }

    static void awaitCount(RecordingListener rec, int n) {
        Await.until(n + " local changesets", TIMEOUT, () -> rec.deduped().size() >= n,
                () -> "(have " + rec.deduped().size() + ", failure " + rec.failure() + ")");
    }
}
