package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.NodeId;
import io.chorus.testkit.PgServer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The group-wide DDL order: intents are granted strictly in GSN order, each once every earlier intent ended (by its
 * DDL changeset or a release), with the GSN that must be applied first; a node releases its intents whose transaction
 * ended, through a logical message read back from a real server's WAL.
 */
class DdlOrderTest {
    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");

    private static DdlOrder order(NodeId self) {
        return new DdlOrder(self, () -> {
            throw new SQLException("no connection in this test", "08003");
        });
    }

    private static ChangeSet ddlChanges(NodeId origin, long lsn, String intent) {
        String json = "{\"v\":1,\"sql\":\"ALTER TABLE t ADD COLUMN x int\",\"search_path\":\"public\",\"role\":\"r\","
                + "\"tag\":\"ALTER TABLE\",\"relations\":[[\"public\",\"t\"]],\"keyed\":false"
                + (intent == null ? "" : ",\"intent\":\"" + intent + "\"") + "}";
        return new ChangeSet(new Gtid(origin, Lsn.of(lsn)), 1, Instant.EPOCH, Gsn.NONE,
                List.of(new MessageChange("chorus_ddl", json.getBytes(StandardCharsets.UTF_8))));
    }

    @Test
    void anIntentIsGrantedOnlyOnceEveryIntentOrderedBeforeItEndedHere() {
        DdlOrder b = order(B);
        Map<String, Gsn> answers = new HashMap<>();
        assertThat(b.onBarrier(A, "ddl:ia:100", Gsn.of(5), answers)).isTrue();
        assertThat(b.onBarrier(B, "ddl:ib:200", Gsn.of(6), answers)).isTrue();
        assertThat(b.onBarrier(B, "ddl:ib2:201", Gsn.of(7), answers)).isTrue();
        assertThat(answers).as("node a's earlier intent is open").isEmpty();
        b.onChanges(ddlChanges(A, 1, null), Gsn.of(8), answers);
        assertThat(answers).as("DDL that names no intent ends none").isEmpty();
        b.onChanges(ddlChanges(A, 2, "ia"), Gsn.of(9), answers);
        assertThat(answers).as("granted once a's DDL at GSN 9 is applied here").containsOnly(Map.entry("ddl:ib:200", Gsn.of(9)));
        answers.clear(); // the control thread answered it
        b.onBarrier(A, "ddl:ia2:101", Gsn.of(10), answers);
        b.onBarrier(B, "ddl-release:ib", Gsn.of(11), answers);
        assertThat(answers).as("b's second intent: granted at once after the first's release")
                .containsOnly(Map.entry("ddl:ib2:201", Gsn.of(11)));
        assertThat(b.openIntents()).extracting(DdlOrder.Intent::id).containsExactly("ib2", "ia2");
        b.onBarrier(B, "ddl:ib:200", Gsn.of(12), answers); // a second copy of an ended intent (appended again)
        b.onBarrier(A, "ddl:ia2:101", Gsn.of(13), answers); // and of an open one
        assertThat(b.openIntents()).as("copies are not opened again").extracting(DdlOrder.Intent::gsn)
                .containsExactly(Gsn.of(7), Gsn.of(10));
    }

    @Test
    void aForgetEndsTheOpenIntentsOfAVoterRemovedByAForcedBootstrap() {
        DdlOrder a = order(A);
        Map<String, Gsn> answers = new HashMap<>();
        a.onBarrier(B, "ddl:lost:7", Gsn.of(4), answers);
        a.onBarrier(A, "ddl:mine:8", Gsn.of(5), answers);
        assertThat(answers).as("node b's intent is open and b is gone").isEmpty();
        assertThat(a.onBarrier(A, "ddl-forget:c", Gsn.of(6), answers)).as("a forget is about DDL").isTrue();
        assertThat(answers).as("a forget of another node ends nothing of b's").isEmpty();
        a.onBarrier(A, "ddl-forget:b", Gsn.of(7), answers);
        assertThat(answers).as("granted once the forget at GSN 7 is applied here")
                .containsOnly(Map.entry("ddl:mine:8", Gsn.of(7)));
        assertThat(a.openIntents()).extracting(DdlOrder.Intent::id).containsExactly("mine");
    }

    @Test
    void anIntentWithNothingOpenBeforeItIsGrantedAtOnceAndPlainBarriersAreLeftAlone() {
        DdlOrder a = order(A);
        Map<String, Gsn> answers = new HashMap<>();
        assertThat(a.onBarrier(A, "0f3c-sync-wait-token", Gsn.of(3), answers)).isFalse();
        a.onBarrier(B, "ddl:other:7", Gsn.of(4), answers);
        a.onBarrier(B, "ddl-release:other", Gsn.of(5), answers);
        a.onBarrier(A, "ddl:mine:8", Gsn.of(6), answers);
        assertThat(answers).as("to be answered once the release of the intent before it is applied")
                .containsOnly(Map.entry("ddl:mine:8", Gsn.of(5)));
        answers.clear();
        DdlOrder first = order(A);
        first.onBarrier(A, "ddl:alone:9", Gsn.of(12), answers);
        assertThat(answers).as("nothing to wait for").containsOnly(Map.entry("ddl:alone:9", Gsn.NONE));
        a.onBarrier(B, "ddl-release:unknown", Gsn.of(7), answers);
        assertThat(a.openIntents()).extracting(DdlOrder.Intent::id).containsExactly("mine");
    }

    @Test
    void anIntentWhoseTransactionEndedIsReleasedThroughTheWal() throws Exception {
        try (PgServer pg = PgServer.start("ddlorder")) {
            pg.createDatabase("app");
            // a statement that outlives its first transaction (as CREATE INDEX CONCURRENTLY does): not released
            java.util.concurrent.ExecutorService sleeperThread = java.util.concurrent.Executors.newSingleThreadExecutor(
                    r -> new Thread(r, "ddl-order-test-sleeper"));
            Connection sleeper = pg.connect("app");
            sleeperThread.submit(() -> sleeper.createStatement().execute("SELECT pg_sleep(20)"));
            try (Connection c = pg.connect("app"); Statement st = c.createStatement()) {
                st.execute("SELECT pg_create_logical_replication_slot('t', 'test_decoding')");
                c.setAutoCommit(false);
                long aborted = xid(st);
                c.rollback();
                long running = xid(st);
                DdlOrder a = new DdlOrder(A, () -> pg.connect("app"));
                Map<String, Gsn> answers = new HashMap<>();
                a.onBarrier(A, "ddl:gone:" + aborted, Gsn.of(1), answers);
                a.onBarrier(A, "ddl:open:" + running, Gsn.of(2), answers);
                a.onBarrier(A, "ddl:phases:" + aborted + ":" + statement(pg, sleeper), Gsn.of(3), answers);
                a.releaseFinished();
                a.releaseFinished(); // a release is written once (again only after a while)
                c.rollback();
                c.setAutoCommit(true);
                assertThat(messages(st)).containsExactly("ddl-release:gone");
                a.close();
            } finally {
                try (Connection c = pg.connect("app"); Statement st = c.createStatement()) {
                    st.execute("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(20)'");
                }
                sleeperThread.shutdown();
                sleeper.close();
            }
        }
    }

    @Test
    void intentsOrderedBeforeTheirOriginsReplayAreSweptOnceTheirTransactionsEnded() throws Exception {
        try (PgServer pg = PgServer.start("ddlsweep")) {
            pg.createDatabase("app");
            try (Connection c = pg.connect("app"); Statement st = c.createStatement();
                 Connection held = pg.connect("app"); Statement hst = held.createStatement()) {
                st.execute("SELECT pg_create_logical_replication_slot('t', 'test_decoding')");
                c.setAutoCommit(false);
                long aborted = xid(st);
                c.rollback();
                c.setAutoCommit(true);
                held.setAutoCommit(false);
                long running = xid(hst); // a DDL transaction that outlives the sidecar's restart
                // node b holds node a's intents: two ordered before a's replay after its restart (GSN <= 20), one after
                DdlOrder b = order(B);
                Map<String, Gsn> answers = new HashMap<>();
                b.onBarrier(A, "ddl:stale:" + aborted, Gsn.of(5), answers);
                b.onBarrier(A, "ddl:held:" + running, Gsn.of(6), answers);
                b.onBarrier(A, "ddl:known:" + aborted, Gsn.of(25), answers);
                b.onBarrier(B, "ddl:mine:1", Gsn.of(30), answers);
                assertThat(answers).as("b's intent waits behind a's").isEmpty();

                DdlOrder a = new DdlOrder(A, () -> pg.connect("app"));
                a.restartedAfter(Gsn.of(20));
                a.releaseFinished();
                a.releaseFinished(); // no transaction the sweep kept has ended: nothing more is sent
                List<String> sent = messages(st);
                assertThat(sent).as("a's sweep, keeping its transaction still in progress")
                        .containsExactly("ddl-sweep:20:" + running);
                assertThat(b.onBarrier(A, sent.get(0), Gsn.of(31), answers)).as("a sweep is about DDL").isTrue();
                assertThat(b.openIntents()).extracting(DdlOrder.Intent::id).containsExactly("held", "known", "mine");
                b.onBarrier(NodeId.of("c"), "ddl-sweep:40:", Gsn.of(32), answers);
                assertThat(b.openIntents()).as("a sweep ends only its own node's intents")
                        .extracting(DdlOrder.Intent::id).containsExactly("held", "known", "mine");

                held.rollback();
                a.releaseFinished();
                sent = messages(st);
                assertThat(sent).as("swept again once the kept transaction ended").containsExactly("ddl-sweep:20:");
                b.onBarrier(A, sent.get(0), Gsn.of(33), answers);
                assertThat(b.openIntents()).as("a's intent inside its replay is a's to release, as before")
                        .extracting(DdlOrder.Intent::id).containsExactly("known", "mine");
                b.onBarrier(A, "ddl-release:known", Gsn.of(34), answers);
                assertThat(answers).as("b's DDL may run once the release at GSN 34 is applied")
                        .containsOnly(Map.entry("ddl:mine:1", Gsn.of(34)));
                a.releaseFinished();
                assertThat(messages(st)).as("nothing more to sweep").isEmpty();
                a.close();
            }
        }
    }

    @Test
    void aSweepKeepsTheIntentOfACreateIndexConcurrentlyThatRunsOnAfterItsFirstTransaction() throws Exception {
        try (PgServer pg = PgServer.start("ddlsweepcic")) {
            pg.createDatabase("app");
            try (Connection c = pg.connect("app"); Statement st = c.createStatement();
                 Connection holder = pg.connect("app"); Statement hst = holder.createStatement();
                 Connection builder = pg.connect("app")) {
                st.execute("SELECT pg_create_logical_replication_slot('t', 'test_decoding')");
                st.execute("CREATE TABLE t (id int)");
                c.setAutoCommit(false);
                long first = xid(st); // stands for the index build's first transaction: over by now
                c.rollback();
                c.setAutoCommit(true);
                holder.setAutoCommit(false);
                xid(hst); // an older transaction: the build waits for it after its first transaction committed
                java.util.concurrent.CompletableFuture<Void> build = java.util.concurrent.CompletableFuture.runAsync(() -> {
                    try (Statement bst = builder.createStatement()) {
                        bst.execute("CREATE INDEX CONCURRENTLY t_id ON t (id)");
                    } catch (SQLException e) {
                        throw new java.util.concurrent.CompletionException(e);
                    }
                });
                String[] running = runningBuild(pg).split(":");
                DdlOrder b = order(B);
                Map<String, Gsn> answers = new HashMap<>();
                b.onBarrier(A, "ddl:cic:" + first + ":" + running[0] + ":" + running[1], Gsn.of(5), answers);
                b.onBarrier(B, "ddl:mine:1", Gsn.of(30), answers);

                DdlOrder a = new DdlOrder(A, () -> pg.connect("app"));
                a.restartedAfter(Gsn.of(20));
                a.releaseFinished();
                List<String> sent = messages(st);
                assertThat(sent).hasSize(1);
                assertThat(sent.get(0)).as("the sweep lists the build's statement").startsWith("ddl-sweep:20:")
                        .endsWith(":" + running[0] + "@" + running[1]);
                b.onBarrier(A, sent.get(0), Gsn.of(31), answers);
                assertThat(b.openIntents()).as("its transaction is over, its statement is not")
                        .extracting(DdlOrder.Intent::id).containsExactly("cic", "mine");
                assertThat(answers).isEmpty();

                holder.rollback();
                build.get(30, java.util.concurrent.TimeUnit.SECONDS);
                a.releaseFinished();
                sent = messages(st);
                assertThat(sent).as("swept again once the build ended").containsExactly("ddl-sweep:20:");
                b.onBarrier(A, sent.get(0), Gsn.of(32), answers);
                assertThat(answers).as("b's DDL may run once the sweep at GSN 32 is applied")
                        .containsOnly(Map.entry("ddl:mine:1", Gsn.of(32)));
                a.close();
            }
        }
    }

    /** {@code <pid>:<statement start in microseconds>} of the index build, once it waits for the older transaction. */
    private static String runningBuild(PgServer pg) throws Exception {
        try (Connection c = pg.connect("app"); Statement st = c.createStatement()) {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = st.executeQuery("SELECT pid || ':' || (extract(epoch FROM query_start) * 1000000)"
                        + "::bigint FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND state = "
                        + "'active' AND wait_event_type = 'Lock'")) {
                    if (rs.next()) {
                        return rs.getString(1);
                    }
                }
            }
            throw new AssertionError("the index build did not wait for the older transaction within 10 s");
        }
    }

    /** {@code <pid>:<statement start in microseconds>} of the sleeping session, once its statement runs. */
    private static String statement(PgServer pg, Connection sleeper) throws Exception {
        try (Connection c = pg.connect("app"); Statement st = c.createStatement()) {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = st.executeQuery("SELECT pid || ':' || (extract(epoch FROM query_start) * 1000000)::bigint "
                        + "FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(20)' AND state = 'active'")) {
                    if (rs.next()) {
                        return rs.getString(1);
                    }
                }
            }
            throw new AssertionError("the sleeping statement did not show in pg_stat_activity within 10 s");
        }
    }

    private static long xid(Statement st) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT pg_current_xact_id()::text::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<String> messages(Statement st) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("SELECT data FROM pg_logical_slot_get_changes('t', NULL, NULL) "
                + "WHERE data LIKE 'message:%chorus_sync_wait%'")) {
            while (rs.next()) {
                String d = rs.getString(1);
                out.add(d.substring(d.indexOf("content:") + "content:".length()).trim());
            }
        }
        return out;
    }
}
