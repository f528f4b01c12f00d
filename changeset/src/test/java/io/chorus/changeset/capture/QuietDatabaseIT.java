package io.chorus.changeset.capture;

import static io.chorus.changeset.capture.CaptureTestSupport.config;
import static io.chorus.changeset.capture.CaptureTestSupport.exec;
import static io.chorus.changeset.capture.CaptureTestSupport.newDatabase;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A quiet database's slot never holds the WAL that other databases write. */
class QuietDatabaseIT {
    private static final long BOUND = 16L << 20;
    private static final long NEAR_ZERO = 256L << 10;

    @Test
    void retainedWalStaysBoundedAndFallsBackNearZero() throws SQLException {
        try (PgServer pg = PgServer.start("quiet")) {
            String quiet = newDatabase(pg, "quiet");
            String busy = newDatabase(pg, "busy");
            exec(pg, busy, "CREATE TABLE w(id bigserial PRIMARY KEY, pad text)");
            CaptureConfig cfg = config(pg, quiet);
            RecordingListener rec = new RecordingListener();
            try (SlotCapture cap = CaptureTestSupport.startDelivering(cfg, rec);
                 Connection b = pg.connect(busy); Statement st = b.createStatement()) {
                long start = walBytes(pg);
                long maxRetained = 0;
                while (walBytes(pg) - start < 64L << 20) {
                    st.execute("INSERT INTO w(pad) SELECT repeat('x', 500) FROM generate_series(1, 2000)");
                    maxRetained = Math.max(maxRetained, retained(pg, cfg.slotName()));
                }
                long written = walBytes(pg) - start;
                System.out.printf("other database wrote %d MB of WAL; quiet slot retained at most %d kB while it wrote%n",
                        written >> 20, maxRetained >> 10);
                assertThat(maxRetained).as("retained WAL while another database writes").isLessThan(BOUND);
                Await.until("retained WAL of slot " + cfg.slotName() + " below " + (NEAR_ZERO >> 10) + " kB",
                        Duration.ofSeconds(30), () -> retained(pg, cfg.slotName()) < NEAR_ZERO,
                        () -> "(retained " + retained(pg, cfg.slotName()) + " bytes)");
                assertThat(rec.all()).as("no local changesets in the quiet database").isEmpty();
            }
        }
    }

    private static long walBytes(PgServer pg) throws SQLException {
        return Long.parseLong(CaptureTestSupport.query(pg, "postgres", "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint"));
    }

    private static long retained(PgServer pg, String slot) {
        try (Connection c = pg.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint"
                     + " FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
            return rs.next() ? rs.getLong(1) : Long.MAX_VALUE;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read slot " + slot, e);
        }
    }
}
