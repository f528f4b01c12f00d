package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.capture.CaptureConfig;
import io.chorus.changeset.capture.CaptureListener;
import io.chorus.changeset.capture.SlotCapture;
import io.chorus.coordinator.apply.XidSnapshot;
import io.chorus.testkit.PgServer;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The guarantee the apply guard builds on, against a real server and capture: when {@link CaptureSync#await} returns
 * for the WAL position a helper read after taking its locks, every local commit that helper waited for has been
 * reported — whether the answer came at once, after a passive wait, or from a (shared) sync message. Seeded; replay
 * with {@code -Dchorus.seed=<seed>}.
 */
class CaptureSyncTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("capturesync");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    /** Feeds a CaptureSync the way the domain does and records every (id, v) a local commit wrote. */
    private static final class Feed implements CaptureListener {
        final Set<String> seen = ConcurrentHashMap.newKeySet();
        volatile CaptureSync sync;
        volatile SlotCapture capture;

        @Override
        public void onLocalChangeSet(ChangeSet cs) {
            for (Change c : cs.changes()) {
                if (c instanceof RowChange rc && rc.newTuple() != null) {
                    seen.add(rc.newTuple().text(0) + "=" + rc.newTuple().text(1));
                }
            }
            capture.markDelivered(cs.gtid().commitLsn());
            sync.decodedThrough(cs.gtid().commitLsn());
        }

        @Override
        public void onHelperCommit(String originName, Gsn appliedGsn, Lsn commitLsn) {
            sync.decodedThrough(commitLsn);
        }

        @Override
        public void onCaughtUp(Lsn walEnd) {
            sync.decodedThrough(walEnd);
        }

        @Override
        public void onControlMessage(String prefix, byte[] content, Lsn lsn) {
            sync.onMessage(prefix, content, lsn);
        }
    }

    private static SlotCapture capture(String db, Feed feed) throws Exception {
        feed.sync = new CaptureSync(pg.jdbcUrl(db));
        feed.capture = new SlotCapture(CaptureConfig.of(pg.jdbcUrl(db), db, NodeId.of("n1"),
                Files.createTempDirectory("capturesync-")), feed);
        feed.capture.start();
        return feed.capture;
    }

    @Test
    void everyLocalCommitTheHelperWaitedForIsReportedWhenAwaitReturns() throws Exception {
        long seed = seed();
        Random rnd = new Random(seed);
        String db = databaseWithTable("syncrace", 8);
        Feed feed = new Feed();
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService pool = Executors.newFixedThreadPool(2, r -> new Thread(r, "capturesync-test"));
        try (SlotCapture cap = capture(db, feed); CaptureSync sync = feed.sync;
             Connection local = pg.connect(db); Connection helper = pg.connect(db)) {
            local.setAutoCommit(false);
            helper.setAutoCommit(false);
            // unrelated local commits keep the WAL moving (and flushed) in the background, as on a busy writer
            Future<?> noise = pool.submit(() -> churn(db, running));
            for (int round = 1; round <= 60; round++) {
                int id = 1 + rnd.nextInt(4);
                boolean async = rnd.nextBoolean();
                boolean helperWaits = rnd.nextInt(3) > 0;
                try (Statement st = local.createStatement()) {
                    st.execute("SET LOCAL synchronous_commit = " + (async ? "off" : "on"));
                    st.execute("UPDATE t SET v = " + round + " WHERE id = " + id);
                }
                if (!helperWaits) {
                    local.commit();
                }
                Future<Lsn[]> locked = pool.submit(() -> lockAndRead(helper, id));
                if (helperWaits) {
                    awaitLockWait(db);
                    local.commit();
                }
                Lsn[] wal = locked.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                if (rnd.nextInt(5) == 0) {
                    sync.await(WAIT); // a caller without a position (the divergence check, the watermark report)
                } else {
                    sync.await(wal[0], wal[1], WAIT);
                }
                assertThat(feed.seen).as("round %d (async local commit: %s, helper waited: %s, seed %d): the "
                        + "local commit to row %d must be reported before await returns", round, async, helperWaits,
                        seed, id).contains(id + "=" + round);
                helper.rollback();
            }
            running.set(false);
            noise.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            System.out.println(sync.stats());
        } finally {
            running.set(false);
            pool.shutdownNow();
        }
    }

    @Test
    void aPositionTheCaptureAlreadyPassedIsAnsweredWithoutAMessage() throws Exception {
        String db = databaseWithTable("syncskip", 1);
        Feed feed = new Feed();
        try (SlotCapture cap = capture(db, feed); CaptureSync sync = feed.sync) {
            Lsn before = Lsn.parse(query(db, "SELECT pg_current_wal_insert_lsn()::text"));
            exec(db, "UPDATE t SET v = 42 WHERE id = 1");
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (!feed.seen.contains("1=42")) {
                assertThat(System.nanoTime()).as("the capture to report the update of row 1 within %s", WAIT)
                        .isLessThan(deadline);
                LockSupport.parkNanos(POLL_NANOS); // polling a condition with a deadline
            }
            long messages = sync.messagesWritten();
            sync.await(before, before, WAIT);
            assertThat(sync.answeredAtOnce()).isEqualTo(1);
            assertThat(sync.messagesWritten()).as("no sync message for a position already decoded").isEqualTo(messages);
            sync.await(WAIT);
            assertThat(sync.messagesWritten()).as("a caller without a position gets a message").isEqualTo(messages + 1);
        }
    }

    @Test
    void consecutiveHelperOnlyBatchesSkipTheWait() throws Exception {
        String db = databaseWithTable("synchelpers", 8);
        Feed feed = new Feed();
        try (SlotCapture cap = capture(db, feed); CaptureSync sync = feed.sync; Connection helper = pg.connect(db)) {
            helper.setAutoCommit(false);
            helperBatch(sync, helper, 1, 1); // no reference yet: it waits, and its snapshot becomes the reference
            long messages = sync.messagesWritten();
            long waited = sync.answeredAtOnce();
            for (int round = 2; round <= 20; round++) {
                helperBatch(sync, helper, 1 + round % 8, round);
            }
            System.out.println(sync.stats());
            assertThat(sync.answeredOnlyHelpers()).as("every batch after the first answered from its snapshot")
                    .isEqualTo(19);
            assertThat(sync.messagesWritten()).as("no sync message written").isEqualTo(messages);
            assertThat(sync.answeredAtOnce()).isEqualTo(waited);
        }
    }

    /**
     * Helper batches that answer from their snapshot while local transactions commit between them (before the
     * helper's lock, or while it waits for it): every local commit is reported before the check of the next batch
     * returns, and a batch with only helpers before it skips the wait. Seeded; replay with {@code -Dchorus.seed}.
     */
    @Test
    void aLocalCommitBetweenHelperBatchesIsReportedBeforeTheNextCheckReturns() throws Exception {
        long seed = seed();
        Random rnd = new Random(seed);
        String db = databaseWithTable("syncxids", 4);
        Feed feed = new Feed();
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "capturesync-xid-test"));
        try (SlotCapture cap = capture(db, feed); CaptureSync sync = feed.sync;
             Connection local = pg.connect(db); Connection helper = pg.connect(db)) {
            local.setAutoCommit(false);
            helper.setAutoCommit(false);
            helperBatch(sync, helper, 1, 0);
            int helperOnly = 0;
            long skippedBefore = sync.answeredOnlyHelpers();
            for (int round = 1; round <= 60; round++) {
                int id = 1 + rnd.nextInt(4);
                int kind = rnd.nextInt(3); // 0: only the helper writes; 1: a local commit first; 2: the helper waits
                long skips = sync.answeredOnlyHelpers();
                if (kind == 0) {
                    helperOnly++;
                    helperBatch(sync, helper, id, round);
                    continue;
                }
                try (Statement st = local.createStatement()) {
                    st.execute("SET LOCAL synchronous_commit = " + (rnd.nextBoolean() ? "off" : "on"));
                    st.execute("UPDATE t SET v = " + -round + " WHERE id = " + id);
                }
                if (kind == 1) {
                    local.commit();
                }
                int v = round;
                Future<Object[]> locked = pool.submit(() -> lockAndReadXact(sync, helper, id, v));
                if (kind == 2) {
                    awaitLockWait(db);
                    local.commit();
                }
                Object[] wal = locked.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                sync.await((Lsn) wal[0], (Lsn) wal[1], (XidSnapshot) wal[2], WAIT);
                assertThat(feed.seen).as("round %d (local commit %s the helper's lock, seed %d): the local commit "
                        + "to row %d must be reported before await returns", round, kind == 1 ? "before" : "during",
                        seed, id).contains(id + "=" + -round);
                assertThat(sync.answeredOnlyHelpers()).as("round %d: a check after a local commit waits (seed %d)",
                        round, seed).isEqualTo(skips);
                helper.commit();
            }
            System.out.println(sync.stats());
            assertThat(sync.answeredOnlyHelpers() - skippedBefore).as("helper-only batches skip the wait (seed %d)",
                    seed).isPositive().isLessThanOrEqualTo(helperOnly);
        } finally {
            pool.shutdownNow();
        }
    }

    /** One helper batch: takes an id, updates row {@code id}, checks the capture with its snapshot, commits. */
    private static void helperBatch(CaptureSync sync, Connection helper, int id, int v) throws Exception {
        Object[] wal = lockAndReadXact(sync, helper, id, v);
        sync.await((Lsn) wal[0], (Lsn) wal[1], (XidSnapshot) wal[2], WAIT);
        helper.commit();
    }

    /**
     * As a helper does: takes the transaction's id (and tells the sync it is a helper's), updates row {@code id}
     * (waiting for a local transaction's lock), then reads insert and flush LSNs and the statement's snapshot.
     */
    private static Object[] lockAndReadXact(CaptureSync sync, Connection helper, int id, int v) throws SQLException {
        try (Statement st = helper.createStatement()) {
            try (ResultSet rs = st.executeQuery("SELECT pg_current_xact_id()::text")) {
                rs.next();
                sync.helperTransaction(Long.parseLong(rs.getString(1)));
            }
            st.execute("UPDATE t SET v = " + v + " WHERE id = " + id);
            try (ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()::text, "
                    + "pg_current_wal_flush_lsn()::text, pg_current_xact_id()::text, pg_current_snapshot()::text")) {
                rs.next();
                return new Object[] {Lsn.parse(rs.getString(1)), Lsn.parse(rs.getString(2)),
                        XidSnapshot.parse(rs.getString(4)).withRunning(Long.parseLong(rs.getString(3)))};
            }
        }
    }

    /** Locks row {@code id} as a helper does (waiting for the local transaction), then reads insert and flush LSNs. */
    private static Lsn[] lockAndRead(Connection helper, int id) throws SQLException {
        try (Statement st = helper.createStatement()) {
            st.execute("UPDATE t SET v = v WHERE id = " + id);
            try (ResultSet rs = st.executeQuery("SELECT pg_current_wal_insert_lsn()::text, pg_current_wal_flush_lsn()::text")) {
                rs.next();
                return new Lsn[] {Lsn.parse(rs.getString(1)), Lsn.parse(rs.getString(2))};
            }
        }
    }

    /** Waits until some backend of {@code db} waits on a lock (the helper behind the local transaction). */
    private static void awaitLockWait(String db) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!"t".equals(query(db, "SELECT (count(*) > 0)::text::char FROM pg_stat_activity WHERE datname = '" + db
                + "' AND wait_event_type = 'Lock'"))) {
            assertThat(System.nanoTime()).as("the helper to wait for the local transaction's row lock within %s", WAIT)
                    .isLessThan(deadline);
            LockSupport.parkNanos(POLL_NANOS); // polling a condition with a deadline
        }
    }

    private static Void churn(String db, AtomicBoolean running) throws SQLException {
        try (Connection c = pg.connect(db); Statement st = c.createStatement()) {
            for (int n = 0; running.get(); n++) {
                st.execute("UPDATE t SET v = -" + n + " WHERE id = " + (5 + n % 4));
            }
        }
        return null;
    }

    private static long seed() {
        long seed = Long.getLong("chorus.seed", System.nanoTime());
        System.out.println("CaptureSyncTest seed = " + seed + " (replay: -Dchorus.seed=" + seed + ")");
        return seed;
    }

    /**
     * A new database with table t (id, v) holding rows 1..{@code rows} at v = 0. No autovacuum: its transaction ids
     * would make helper-only checks of the tests wait (the server's ids are shared by its databases).
     */
    private static String databaseWithTable(String name, int rows) throws SQLException {
        String db = pg.createDatabase(name);
        exec(db, "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL) WITH (autovacuum_enabled = off)",
                "INSERT INTO t SELECT g, 0 FROM generate_series(1, " + rows + ") g");
        return db;
    }

    private static void exec(String db, String... sql) throws SQLException {
        try (Connection c = pg.connect(db); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    private static String query(String db, String sql) throws SQLException {
        try (Connection c = pg.connect(db); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
