package io.chorus.coordinator.apply;

import static io.chorus.coordinator.apply.Units.relation;
import static io.chorus.coordinator.apply.Units.remote;
import static io.chorus.coordinator.apply.Units.update;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.Relation;
import io.chorus.changeset.Tuple;
import io.chorus.recovery.TransferHold;
import io.chorus.schema.DdlMessage;
import io.chorus.sql.SqlSurface;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.nio.charset.StandardCharsets;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A remote batch on a hot row that local commits race at every run: from the configured race on, its re-run holds
 * local writers (through the real {@code chorus_transfer_hold} trigger) and commits; when the hold cannot be taken
 * in time the batch goes on without it, as before.
 */
class WriterHoldTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("hold");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void aRerunRacedTwiceHoldsLocalWritersAndCommits() throws Exception {
        TestDb db = hotTable("held");
        try (LocalWriter w = new LocalWriter(db.url()); Connection monitor = DriverManager.getConnection(db.url())) {
            RacingGuard guard = new RacingGuard(w, monitor, hot());
            try (Applier applier = new Applier(db.config().guard(guard).build(), ApplyListener.NONE)) {
                applier.submit(remote(1, "node2", update(hot(), "1", "1000", "winner")));
                applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
                assertThat(guard.races.get()).as("raced before the hold, not after").isEqualTo(2);
                assertThat(guard.checks.get()).as("the first re-run holding local writers commits").isEqualTo(3);
                assertThat(guard.waits).as("the writer racing the held re-run waited at its trigger, polling")
                        .containsExactly("PgSleep");
                assertThat(applier.localWriterHolds()).isEqualTo(1);
                assertThat(applier.localWriterHoldTimeouts()).isZero();
                assertThat(applier.failure()).isNull();
            }
            await().atMost(WAIT).until(() -> w.done.get() == 3); // the held statement ran once the re-run committed
            assertThat(w.updated.get()).as("two local commits raced; the held one found the winner").isEqualTo(2);
        }
        // the late restores rolled the local losers back to the base version, then the winner was written
        assertThat(db.column("SELECT id || '=' || v || '/' || note FROM hot ORDER BY id"))
                .containsExactly("1=1000/winner", "2=0/base");
    }

    @Test
    void aHoldThatTimesOutLeavesTheBatchRunningAsBefore() throws Exception {
        TestDb db = hotTable("timeout");
        try (LocalWriter w = new LocalWriter(db.url()); Connection monitor = DriverManager.getConnection(db.url());
             Connection open = DriverManager.getConnection(db.url())) {
            // a local transaction wrote a replicated table (its trigger took the hold's lock shared) and stays open
            open.setAutoCommit(false);
            try (Statement st = open.createStatement()) {
                st.executeUpdate("UPDATE hot SET note = 'open' WHERE id = 2");
            }
            RacingGuard guard = new RacingGuard(w, monitor, hot());
            try (Applier applier = new Applier(db.config().guard(guard).holdTimeout(Duration.ofMillis(100)).build(),
                    ApplyListener.NONE)) {
                applier.submit(remote(1, "node2", update(hot(), "1", "1000", "winner")));
                await().atMost(WAIT).until(() -> applier.localWriterHoldTimeouts() >= 2);
                assertThat(applier.failure()).as("no error, no stop").isNull();
                assertThat(applier.localWriterHolds()).isZero();
                open.commit();
                applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
                assertThat(applier.localWriterHolds()).as("held once the open transaction ended").isEqualTo(1);
                assertThat(applier.failure()).isNull();
                assertThat(guard.races.get()).isGreaterThanOrEqualTo(3);
            }
        }
        assertThat(db.column("SELECT id || '=' || v || '/' || note FROM hot ORDER BY id"))
                .containsExactly("1=1000/winner", "2=0/open");
    }

    @Test
    void aHeldRerunGivesWayToALocalTransactionHoldingItsRowAndNeverFailsIt() throws Exception {
        TestDb db = hotTable("giveway");
        try (Connection monitor = DriverManager.getConnection(db.url());
             Connection local = DriverManager.getConnection(db.url())) {
            local.setAutoCommit(false);
            int localPid = pid(local);
            AtomicReference<Throwable> localError = new AtomicReference<>();
            AtomicInteger localUpdated = new AtomicInteger(-1);
            Thread[] localThread = new Thread[1];
            // the third run holds local writers; as it starts, a local transaction that locked row 1 with SELECT FOR
            // UPDATE (no trigger) writes and waits at its trigger, while the held re-run waits for row 1
            ScriptedGuard guard = new ScriptedGuard(2, run -> {
                if (run != 3) {
                    return;
                }
                try (Statement st = local.createStatement()) {
                    st.executeQuery("SELECT v FROM hot WHERE id = 1 FOR UPDATE").close();
                }
                localThread[0] = new Thread(() -> {
                    try (Statement st = local.createStatement()) {
                        localUpdated.set(st.executeUpdate("UPDATE hot SET note = 'local' WHERE id = 1"));
                        local.commit();
                    } catch (Throwable e) {
                        localError.set(e);
                    }
                }, "local-for-update");
                localThread[0].start();
                await().atMost(WAIT).pollInterval(Duration.ofMillis(1)).until(() ->
                        "PgSleep".equals(waitOf(monitor, localPid)) || localUpdated.get() >= 0
                                || localError.get() != null);
                assertThat(localUpdated.get()).as("the local statement met the hold").isEqualTo(-1);
            });
            try (Applier applier = new Applier(db.config().guard(guard).build(), ApplyListener.NONE)) {
                applier.submit(remote(1, "node2", update(hot(), "1", "1000", "winner")));
                applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
                localThread[0].join(WAIT.toMillis());
                assertThat(localError.get()).as("the local transaction never fails because of the hold").isNull();
                assertThat(localUpdated.get()).isEqualTo(1);
                assertThat(applier.localWriterHolds()).isEqualTo(1);
                assertThat(applier.localWriterHoldsGivenWay()).as("the held re-run rolled back for it").isEqualTo(1);
                assertThat(applier.failure()).isNull();
            }
        }
        assertThat(db.column("SELECT id || '=' || v || '/' || note FROM hot ORDER BY id"))
                .containsExactly("1=1000/winner", "2=0/base");
    }

    @Test
    void aRacedBatchWithDdlNeverHoldsLocalWriters() throws Exception {
        TestDb db = hotTable("ddl");
        try (LocalWriter w = new LocalWriter(db.url()); Connection monitor = DriverManager.getConnection(db.url())) {
            List<String> waits = new CopyOnWriteArrayList<>();
            // as the third run starts (it would be held), a local write statement runs: it must not wait at its
            // trigger, since the batch's ALTER TABLE needs the table lock that statement holds
            ScriptedGuard guard = new ScriptedGuard(2, run -> {
                if (run == 3) {
                    long before = w.done.get();
                    w.permits.release();
                    await().atMost(WAIT).pollInterval(Duration.ofMillis(1)).until(() -> {
                        String wait = w.lockWait(monitor);
                        if (wait != null) {
                            waits.add(wait);
                        }
                        return w.done.get() > before;
                    });
                }
            });
            try (Applier applier = new Applier(db.config().guard(guard).build(), ApplyListener.NONE)) {
                applier.submit(remote(1, "node2", ddl("ALTER TABLE hot ADD COLUMN extra int"),
                        update(relation("hot", "id", "v", "note", "extra"), "1", "1000", "winner", "7")));
                applier.awaitApplied(Gsn.of(1), TestDb.WAIT);
                assertThat(guard.runs.get()).as("raced twice, committed on the third run").isEqualTo(3);
                assertThat(applier.localWriterHolds()).as("a batch with DDL is never held").isZero();
                assertThat(applier.failure()).isNull();
            }
            assertThat(waits).as("the local statement did not wait at its trigger").isEmpty();
        }
        assertThat(db.column("SELECT id || '=' || v || '/' || note || '/' || coalesce(extra, -1) FROM hot ORDER BY id"))
                .containsExactly("1=1000/winner/7", "2=0/base/-1");
    }

    private static MessageChange ddl(String sql) {
        return new MessageChange(DdlMessage.PREFIX, ("{\"v\":1,\"sql\":\"" + sql + "\",\"search_path\":\"public\","
                + "\"role\":\"postgres\",\"tag\":\"ALTER TABLE\",\"relations\":[[\"public\",\"hot\"]],"
                + "\"keyed\":false}").getBytes(StandardCharsets.UTF_8));
    }

    private static int pid(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** What a backend waits for: a lock, or the hold at its trigger (PgSleep); null when neither. */
    private static String waitOf(Connection monitor, int pid) throws SQLException {
        try (PreparedStatement ps = monitor.prepareStatement("SELECT wait_event FROM pg_stat_activity WHERE pid = ? "
                + "AND (wait_event_type = 'Lock' OR wait_event = 'PgSleep')")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    private static Relation hot() {
        return relation("hot", "id", "v", "note");
    }

    private static TestDb hotTable(String name) throws SQLException {
        TestDb db = TestDb.create(pg, name);
        db.exec("CREATE TABLE hot (id int PRIMARY KEY, v int NOT NULL, note text NOT NULL)",
                "INSERT INTO hot VALUES (1, 0, 'base'), (2, 0, 'base')");
        try (Connection c = DriverManager.getConnection(db.url())) {
            SqlSurface.install(c);
            assertThat(TransferHold.install(c, WAIT)).isTrue();
        }
        return db;
    }

    /** A local session that runs one write statement on the hot row per permit, through the hold's trigger. */
    private static final class LocalWriter implements AutoCloseable {
        final Semaphore permits = new Semaphore(0);
        final AtomicLong done = new AtomicLong();
        final AtomicLong updated = new AtomicLong();
        final Connection connection;
        final int pid;
        final Thread thread;
        volatile boolean stopped;

        LocalWriter(String url) throws SQLException {
            connection = DriverManager.getConnection(url);
            try (Statement st = connection.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1);
            }
            thread = new Thread(this::run, "local-writer");
            thread.start();
        }

        private void run() {
            try (PreparedStatement ps = connection.prepareStatement(
                    "UPDATE hot SET v = v + 1, note = 'local' WHERE id = 1 AND v < 1000")) {
                while (true) {
                    permits.acquire();
                    if (stopped) {
                        return;
                    }
                    updated.addAndGet(ps.executeUpdate());
                    done.incrementAndGet();
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** What the writer's backend waits for: a lock, or the hold at its trigger (PgSleep); null when neither. */
        String lockWait(Connection monitor) throws SQLException {
            return waitOf(monitor, pid);
        }

        @Override
        public void close() throws Exception {
            stopped = true;
            permits.release();
            thread.join(WAIT.toMillis());
            connection.close();
        }
    }

    /** What a test does as a run of the batch starts (run 1 is the first). */
    private interface RunStart {
        void starting(int run) throws Exception;
    }

    /**
     * A capture modelled by when the applier calls it: {@link #takeLateRestores} before a run's writes is the run's
     * start; after {@link #awaitCaptureCaughtUp} it is the check that may report local commits that raced the run.
     */
    private abstract static class CaptureModel implements ApplyGuard {
        private volatile boolean checking;

        abstract void runStarts() throws Exception;

        abstract List<RestoreRow> check();

        @Override
        public final void awaitCaptureCaughtUp(Duration timeout) {
            checking = true;
        }

        @Override
        public final List<RestoreRow> takeLateRestores(Gsn first, Gsn last) {
            if (checking) {
                checking = false;
                return check();
            }
            try {
                runStarts();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return List.of();
        }

        @Override
        public void committed(Gsn upTo) {
        }
    }

    /**
     * A capture whose checks report a local commit (the hot row's rollback to its base version) after each of the
     * first {@code races} runs, and nothing after; {@link RunStart} acts as each run starts.
     */
    private static final class ScriptedGuard extends CaptureModel {
        final AtomicInteger runs = new AtomicInteger();
        private final int races;
        private final RunStart start;
        private int reported;

        ScriptedGuard(int races, RunStart start) {
            this.races = races;
            this.start = start;
        }

        @Override
        void runStarts() throws Exception {
            start.starting(runs.incrementAndGet());
        }

        @Override
        List<RestoreRow> check() {
            if (reported < races) {
                reported++;
                return List.of(new RestoreRow(hot(), List.of("1"), Tuple.ofTexts("1", "0", "base")));
            }
            return List.of();
        }
    }

    /**
     * Models a capture that sees local commits only at the check after the batch's writes: as each run starts, the
     * local writer commits once more unless a lock holds it; the check then hands the commits made since the last
     * check to the batch as late restores (the hot row back to its base version).
     */
    private static final class RacingGuard extends CaptureModel {
        final AtomicInteger races = new AtomicInteger();
        final AtomicInteger checks = new AtomicInteger();
        final List<String> waits = new CopyOnWriteArrayList<>();
        private final LocalWriter writer;
        private final Connection monitor;
        private final Relation relation;
        private long reported;

        RacingGuard(LocalWriter writer, Connection monitor, Relation relation) {
            this.writer = writer;
            this.monitor = monitor;
            this.relation = relation;
        }

        @Override
        List<RestoreRow> check() {
            checks.incrementAndGet();
            long done = writer.done.get();
            if (done == reported) {
                return List.of();
            }
            reported = done;
            races.incrementAndGet();
            return List.of(new RestoreRow(relation, List.of("1"), Tuple.ofTexts("1", "0", "base")));
        }

        /** Lets the writer run one statement; returns once it committed or waits for a lock or the hold. */
        @Override
        void runStarts() {
            long before = writer.done.get();
            writer.permits.release();
            String[] wait = new String[1];
            await().atMost(WAIT).pollInterval(Duration.ofMillis(2)).until(() -> {
                wait[0] = writer.lockWait(monitor);
                return writer.done.get() > before || wait[0] != null;
            });
            if (writer.done.get() == before) {
                waits.add(wait[0]);
            }
        }
    }
}
