package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.Await;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import io.chorus.it.workload.AcknowledgedRows;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * DDL replicated in total order on a three-node cluster of sidecar processes (DESIGN §6, issue 8): DDL under write
 * load from every node, DDL issued on two nodes at the same moment, and chorus.execute(). Afterwards every node is
 * ONLINE without an apply error, every table (rows and column order) and the conflict log are identical, every
 * acknowledged row is everywhere, and the schema dumps (columns, defaults, indexes, constraints, replica identity,
 * sequence steps) are identical.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the racing rename last: its lost writes stay in the R2 ledger
class DdlIT {
    private static final Duration BARRIER = Duration.ofSeconds(90);
    private static final String SCHEMA = """
            CREATE TABLE ddl_t (id bigint PRIMARY KEY, origin text NOT NULL, v text, dropme text DEFAULT 'd',
                                retype int DEFAULT 1);
            CREATE TABLE quiet_t (id int PRIMARY KEY, v text);
            INSERT INTO quiet_t VALUES (1, 'one'), (2, 'two');
            CREATE TABLE side_a (id int PRIMARY KEY);
            CREATE TABLE side_b (id int PRIMARY KEY);
            CREATE TABLE hot_r (id bigint PRIMARY KEY, v text);
            CREATE TABLE hot_d (id bigint PRIMARY KEY, v text);
            CREATE TABLE hot_c (id bigint PRIMARY KEY, v text, w int);
            """;
    private ChorusCluster cluster;
    private long seed;

    @BeforeAll
    void start() throws SQLException {
        seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        System.out.println("DdlIT seed " + seed + " (replay with -Dchorus.seed=" + seed + ")");
        cluster = ChorusCluster.start(3, "ddl", SCHEMA, null);
        patientDdl(cluster, "ddl");
    }

    /**
     * DDL waits for the group's DDL order (chorus.ddl_order_timeout, 60 s by default); on a loaded machine the group
     * can take longer to order it behind the write load, so these tests' sessions wait up to 5 minutes.
     */
    static void patientDdl(ChorusCluster cluster, String database) throws SQLException {
        for (int i = 1; i <= cluster.size(); i++) {
            try (Connection c = cluster.connect(i); Statement st = c.createStatement()) {
                st.execute("ALTER DATABASE " + database + " SET chorus.ddl_order_timeout = '300 s'");
            }
        }
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void ddlUnderWriteLoadFromEveryNodeKeepsTheNodesIdenticalAndLosesNoRow() throws Exception {
        Inserts inserts = new Inserts();
        // one writer per node, bounded: with two unbounded writers per node the helpers' late-doom scan
        // (pending.LateCommit.markLosers, under the pending lock) stalled the group's delivery on a loaded machine
        WorkloadRunner run = WorkloadRunner.start(1, List.of(inserts), cluster::connect, 3, 1, seed,
                Duration.ofMinutes(3), LOAD_TOTAL / 3);
        try {
            ddlAfterProgress(run, 1, "ALTER TABLE ddl_t ADD COLUMN added int DEFAULT 42");
            ddlAfterProgress(run, 2, "ALTER TABLE ddl_t DROP COLUMN dropme");
            ddlAfterProgress(run, 3, "ALTER TABLE ddl_t ALTER COLUMN retype TYPE bigint");
            ddlAfterProgress(run, 1, "CREATE INDEX CONCURRENTLY ddl_t_v ON ddl_t (v)");
            ddlAfterProgress(run, 2, "ALTER TABLE quiet_t RENAME TO renamed_t");
            ddlAfterProgress(run, 3, "CREATE TABLE made_t (id serial PRIMARY KEY, u text UNIQUE)");
            ddlAfterProgress(run, 1, "SELECT 1"); // some load after the last DDL
        } finally {
            run.stop();
        }
        ClusterCheck.Verdict v = ClusterCheck.verify(cluster, List.of(inserts), BARRIER);
        System.out.println("committed " + run.committed() + ", acknowledged rows " + inserts.acknowledged.size()
                + "\n" + v.describe());
        assertThat(run.errors()).isEmpty();
        assertThat(v.ok()).as(v.describe()).isTrue();
        assertThat(inserts.acknowledged.size()).isGreaterThan(100);
        assertThat(v.rowsPerTable()).containsEntry("public.ddl_t", (long) inserts.acknowledged.size())
                .containsEntry("public.renamed_t", 2L);
        String dump = sameSchemaEverywhere();
        assertThat(dump).contains("col ddl_t.added integer default 42").doesNotContain("dropme")
                .contains("col ddl_t.retype bigint").contains("idx ddl_t_v valid CREATE INDEX ddl_t_v ON public.ddl_t USING btree (v)")
                .contains("rel renamed_t r replident f").doesNotContain("rel quiet_t")
                .contains("rel made_t r replident f").contains("seq made_t_id_seq step 32");
        for (int i = 1; i <= 3; i++) {
            try (Connection c = cluster.connect(i)) {
                assertThat(Sql.number(c, "SELECT count(*) FROM ddl_t WHERE added = 42"))
                        .as("rows inserted before and after ADD COLUMN all carry its default on node" + i)
                        .isEqualTo(inserts.acknowledged.size());
            }
        }
    }

    @Test
    @Order(2)
    void ddlIssuedOnTwoNodesAtTheSameMomentEndsInIdenticalSchemas() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2, r -> new Thread(r, "ddl-same-moment"));
        try {
            CountDownLatch go = new CountDownLatch(1);
            Future<?> one = pool.submit(() -> runAt(go, 1, "ALTER TABLE side_a ADD COLUMN from1 text DEFAULT 'a'",
                    "CREATE INDEX side_b_by1 ON side_b (id)"));
            Future<?> two = pool.submit(() -> runAt(go, 2, "ALTER TABLE side_b ADD COLUMN from2 int DEFAULT 2",
                    "COMMENT ON TABLE side_a IS 'commented on node2'"));
            go.countDown();
            one.get(60, TimeUnit.SECONDS);
            two.get(60, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        // node3 alters side_a too, through chorus.execute() (ConcurrentDdlIT runs DDL on one table from several nodes
        // at the same moment)
        assertThat(cluster.barrier(BARRIER)).isEmpty();
        try (Connection c = cluster.connect(3)) {
            assertThat(Sql.one(c, "SELECT chorus.execute($s$CREATE TABLE exec_t (id int PRIMARY KEY, v text);"
                    + " INSERT INTO exec_t VALUES (1, 'x;y'); ALTER TABLE side_a ADD COLUMN from3 int$s$)"))
                    .startsWith("3 statement(s) run here (2 DDL)");
        }
        ClusterCheck.Verdict v = ClusterCheck.verify(cluster, List.of(), BARRIER);
        assertThat(v.ok()).as(v.describe()).isTrue();
        assertThat(v.rowsPerTable()).as("the script's INSERT is replicated as a row, once").containsEntry("public.exec_t", 1L);
        String dump = sameSchemaEverywhere();
        assertThat(dump).contains("col side_a.from1 text default 'a'::text").contains("col side_b.from2 integer default 2")
                .contains("col side_a.from3 integer").contains("idx side_b_by1 valid")
                .contains("comment side_a commented on node2").contains("rel exec_t r replident f");
    }

    /**
     * Nodes 2 and 3 write to three tables without pause while node1 renames one, drops another and renames a column
     * of the third: changes ordered before the DDL reach node1 after it ran there, and go to the new name (of the table
     * or the column) or nowhere; changes ordered after it that did not see it lose, and are rolled back at their origin
     * under the new names. No node stops, and every node ends identical.
     */
    @Test
    @Order(3)
    void renameAndDropRacingRemoteWritesNeverStopTheirOrigin() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<HotWriter> writers = List.of(new HotWriter(2, stop), new HotWriter(3, stop));
        ExecutorService pool = Executors.newFixedThreadPool(2, r -> new Thread(r, "ddl-hot-writer"));
        try {
            List<Future<?>> running = new ArrayList<>();
            for (HotWriter w : writers) {
                running.add(pool.submit(w));
            }
            Await.until("both writers to commit 100 rows", Duration.ofSeconds(60),
                    () -> writers.stream().allMatch(w -> w.committed.get() >= 100 || w.failure.get() != null));
            try (Connection c = cluster.connect(1); Statement st = c.createStatement()) {
                st.execute("ALTER TABLE hot_r RENAME TO hot_renamed");
                st.execute("DROP TABLE hot_d");
                st.execute("ALTER TABLE hot_c RENAME COLUMN v TO v_renamed");
            }
            Await.until("both writers to find the three tables changed on their nodes, or to finish",
                    Duration.ofSeconds(90), () -> writers.stream().allMatch(w -> w.gone.size() == 3 || w.done.get()));
            stop.set(true);
            for (Future<?> f : running) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
        for (HotWriter w : writers) {
            assertThat(w.failure.get()).as("writer on node" + w.node).isNull();
        }
        ClusterCheck.Verdict v = ClusterCheck.verify(cluster, List.of(), BARRIER);
        System.out.println("hot writers committed " + writers.get(0).committed + " and " + writers.get(1).committed
                + "\n" + v.describe());
        assertThat(v.ok()).as(v.describe()).isTrue();
        String dump = sameSchemaEverywhere();
        assertThat(dump).contains("rel hot_renamed r").doesNotContain("rel hot_r ").doesNotContain("rel hot_d ")
                .contains("col hot_c.v_renamed text").doesNotContain("col hot_c.v text");
    }

    /**
     * Inserts into hot_r, hot_d and hot_c on one node until stopped, up to {@value #HOT_ROWS} rows each (the writes
     * that lose to the DDL stay bounded), and updates hot_c's column v of the row before; a table gone there (42P01) or
     * a column renamed there (42703) is noted, not an error.
     */
    private final class HotWriter implements Runnable {
        final int node;
        final java.util.concurrent.atomic.AtomicBoolean stop;
        final java.util.concurrent.atomic.AtomicLong committed = new java.util.concurrent.atomic.AtomicLong();
        final Set<String> gone = ConcurrentHashMap.newKeySet();
        final java.util.concurrent.atomic.AtomicReference<Exception> failure = new java.util.concurrent.atomic.AtomicReference<>();
        final java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();

        HotWriter(int node, java.util.concurrent.atomic.AtomicBoolean stop) {
            this.node = node;
            this.stop = stop;
        }

        @Override
        public void run() {
            try (Connection c = cluster.connect(node)) {
                for (long i = 1; !stop.get() && i <= HOT_ROWS; i++) {
                    for (String table : List.of("hot_r", "hot_d", "hot_c")) {
                        if (gone.contains(table)) {
                            continue;
                        }
                        long id = node * 1_000_000_000L + i;
                        try {
                            if (table.equals("hot_c")) {
                                c.setAutoCommit(false);
                                Sql.exec(c, "INSERT INTO hot_c (id, v, w) VALUES (?, ?, 1)", id, "n" + node);
                                Sql.exec(c, "UPDATE hot_c SET v = v || '+', w = w + 1 WHERE id = ?", id - 1);
                                c.commit();
                                c.setAutoCommit(true);
                            } else {
                                Sql.exec(c, "INSERT INTO " + table + " VALUES (?, ?)", id, "n" + node);
                            }
                            committed.incrementAndGet();
                        } catch (SQLException e) {
                            if (!c.getAutoCommit()) {
                                c.rollback();
                                c.setAutoCommit(true);
                            }
                            if (!"42P01".equals(e.getSQLState()) && !"42703".equals(e.getSQLState())) {
                                throw e;
                            }
                            gone.add(table);
                        }
                    }
                }
            } catch (Exception e) {
                failure.set(e);
            } finally {
                done.set(true);
            }
        }
    }

    private static final int HOT_ROWS = 500;
    /** Transactions of the load under DDL, over its three writers. */
    private static final long LOAD_TOTAL = 15_000;

    private void runAt(CountDownLatch go, int node, String... statements) {
        try (Connection c = cluster.connect(node); Statement st = c.createStatement()) {
            if (!go.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the start signal did not come within 30 s");
            }
            for (String s : statements) {
                st.execute(s);
            }
        } catch (SQLException | InterruptedException e) {
            throw new IllegalStateException("DDL on node" + node + " failed: " + e.getMessage(), e);
        }
    }

    /** Waits until the load committed some more transactions, then runs {@code ddl} on node {@code node}. */
    private void ddlAfterProgress(WorkloadRunner run, int node, String ddl) throws SQLException {
        long before = run.committed();
        Await.until("the load to commit 80 more transactions (or to finish) before: " + ddl, Duration.ofSeconds(60),
                () -> run.committed() >= Math.min(before + 80, LOAD_TOTAL) || !run.errors().isEmpty());
        assertThat(run.errors()).isEmpty();
        try (Connection c = cluster.connect(node); Statement st = c.createStatement()) {
            st.execute(ddl);
        }
    }

    /** The schema of database ddl on every node, identical; returns node1's dump. */
    private String sameSchemaEverywhere() throws SQLException {
        List<String> dumps = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            try (Connection c = cluster.connect(i)) {
                dumps.add(Sql.one(c, SCHEMA_DUMP));
            }
        }
        assertThat(dumps.get(1)).as("node2's schema").isEqualTo(dumps.get(0));
        assertThat(dumps.get(2)).as("node3's schema").isEqualTo(dumps.get(0));
        return dumps.get(0);
    }

    private static final String SCHEMA_DUMP = """
            SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
              SELECT format('col %s.%s %s default %s%s #%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                            pg_get_expr(d.adbin, d.adrelid), CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                            a.attnum) AS x
                FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
               WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
              UNION ALL
              SELECT format('idx %s %s %s', i.indexrelid::regclass, CASE WHEN i.indisvalid THEN 'valid' ELSE 'INVALID' END,
                            pg_get_indexdef(i.indexrelid))
                FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relnamespace = 'public'::regnamespace
              UNION ALL
              SELECT format('con %s %s', conname, pg_get_constraintdef(oid)) FROM pg_constraint
               WHERE connamespace = 'public'::regnamespace
              UNION ALL
              SELECT format('rel %s %s replident %s', relname, relkind, relreplident) FROM pg_class
               WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')
              UNION ALL
              SELECT format('seq %s step %s', sequencename, increment_by) FROM pg_sequences WHERE schemaname = 'public'
              UNION ALL
              SELECT format('comment %s %s', c.relname, obj_description(c.oid, 'pg_class')) FROM pg_class c
               WHERE c.relnamespace = 'public'::regnamespace AND obj_description(c.oid, 'pg_class') IS NOT NULL
            ) s""";

    /** Inserts into ddl_t naming only the columns no DDL touches; every acknowledged id must be on every node. */
    static final class Inserts implements Workload {
        final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        final Set<Long> inDoubt = ConcurrentHashMap.newKeySet();

        @Override
        public String name() {
            return "ddl-inserts";
        }

        @Override
        public String schema() {
            return "";
        }

        @Override
        public Object transaction(Connection c, Random rnd, Writer w) throws SQLException {
            long id = w.uniqueId();
            Sql.exec(c, "INSERT INTO ddl_t (id, origin, v) VALUES (?, ?, ?)", id, "node" + w.node(),
                    Long.toHexString(rnd.nextLong()));
            return id;
        }

        @Override
        public void committed(Object token) {
            acknowledged.add((Long) token);
        }

        @Override
        public void inDoubt(Object token) {
            inDoubt.add((Long) token);
        }

        @Override
        public List<String> verify(Map<String, Connection> nodes) throws SQLException {
            return AcknowledgedRows.verify("ddl_t", nodes, "SELECT id FROM ddl_t", acknowledged, inDoubt);
        }
    }
}
