package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.Await;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import io.chorus.it.workload.AcknowledgedRows;
import io.chorus.it.workload.Workload;
import io.chorus.it.workload.WorkloadRunner;
import io.chorus.schema.SchemaFingerprint;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
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
 * DDL issued on two or three nodes at the same moment (issue 8's must-show): seeded rounds of ADD COLUMN, CREATE INDEX
 * (plain or CONCURRENTLY) and ALTER COLUMN TYPE on the same table or on different tables, started together from a
 * latch on 2–3 nodes of a three-node cluster under insert load on those tables. Every statement succeeds (the later
 * one waits for the group's DDL order instead of running first), and afterwards every node has the same schema
 * fingerprint (columns in the same order, same types), the same indexes, the same rows, and no apply error.
 * {@code -Dchorus.seed} replays a run, {@code -Dchorus.ddl.rounds} sets the number of rounds (default 12).
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConcurrentDdlIT {
    private static final Duration BARRIER = Duration.ofSeconds(120);
    private static final List<String> TABLES = List.of("d1", "d2", "d3");
    private static final List<String> TYPES = List.of("bigint", "numeric(20)", "int");
    private static final String SCHEMA = """
            CREATE TABLE d1 (id bigint PRIMARY KEY, v text, w int);
            CREATE TABLE d2 (id bigint PRIMARY KEY, v text, w int);
            CREATE TABLE d3 (id bigint PRIMARY KEY, v text, w int);
            """;

    private ChorusCluster cluster;

    @BeforeAll
    void start() throws SQLException {
        cluster = ChorusCluster.start(3, "cddl", SCHEMA, null);
        DdlIT.patientDdl(cluster, "cddl");
    }

    @AfterAll
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /**
     * An open transaction that ran DDL holds the next DDL on every other node: node2's ADD COLUMN on the same table
     * waits while node1's is uncommitted, gives up after chorus.ddl_order_timeout naming the fix, and once node1
     * committed runs after it — the same column order on every node.
     */
    @Test
    @Order(1)
    void anOpenDdlTransactionHoldsTheNextDdlOfEveryOtherNodeUntilItEnds() throws Exception {
        try (Connection one = cluster.connect(1); Connection two = cluster.connect(2); Statement st1 = one.createStatement();
             Statement st2 = two.createStatement()) {
            one.setAutoCommit(false);
            st1.execute("ALTER TABLE d1 ADD COLUMN first_one int");
            st2.execute("SET chorus.ddl_order_timeout = '3 s'");
            assertThatThrownBy(() -> st2.execute("ALTER TABLE d1 ADD COLUMN second_one int"))
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("55P03"))
                    .hasMessageContaining("ALTER TABLE was not ordered within 00:00:03")
                    .hasMessageContaining("commit or roll it back, then run the DDL again");
            st2.execute("SET chorus.ddl_order_timeout = '90 s'");
            ExecutorService pool = Executors.newSingleThreadExecutor(r -> new Thread(r, "ddl-held"));
            try {
                Future<Boolean> held = pool.submit(() -> st2.execute("ALTER TABLE d1 ADD COLUMN second_one int"));
                Await.until("node2's ALTER TABLE to wait for node1's open DDL transaction", Duration.ofSeconds(30),
                        () -> waiting(cluster, 2));
                assertThat(held.isDone()).as("node2's DDL runs only after node1's").isFalse();
                one.commit();
                held.get(90, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
        }
        assertThat(cluster.barrier(BARRIER)).isEmpty();
        List<String> fingerprint = sameEverywhere(cluster, "the schema fingerprint", SchemaFingerprint::describe);
        assertThat(fingerprint).contains("column \"public\".\"d1\" #4 \"first_one\" integer",
                "column \"public\".\"d1\" #5 \"second_one\" integer");
    }

    /** Whether a session on node {@code node} waits in the DDL order (its start trigger polls chorus.barriers). */
    private static boolean waiting(ChorusCluster cluster, int node) throws SQLException {
        try (Connection c = cluster.connect(node)) {
            return Sql.number(c, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'ALTER TABLE d1 ADD COLUMN second_one%' "
                    + "AND state = 'active'") == 1;
        }
    }

    @Test
    @Order(2)
    void ddlIssuedOnSeveralNodesAtTheSameMomentEndsInIdenticalSchemasOnEveryNode() throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime() % 100_000);
        int rounds = Integer.getInteger("chorus.ddl.rounds", 12);
        System.out.println("ConcurrentDdlIT seed " + seed + " (replay with -Dchorus.seed=" + seed + "), " + rounds
                + " rounds");
        Random rnd = new Random(seed);
        {
            Rows rows = new Rows();
            // a bounded load (the rounds run during and after it): the point is DDL against DDL with writes around
            WorkloadRunner load = WorkloadRunner.start(1, List.of(rows), cluster::connect, 3, 1, seed,
                    Duration.ofMinutes(10), 400);
            List<String> issued = new ArrayList<>();
            try {
                for (int round = 1; round <= rounds; round++) {
                    issued.addAll(round(cluster, round, rnd));
                }
            } finally {
                load.stop();
            }
            System.out.println("issued:\n  " + String.join("\n  ", issued));
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, List.of(rows), BARRIER);
            System.out.println("committed " + load.committed() + ", acknowledged rows " + rows.acknowledged.size()
                    + "\n" + v.describe());
            assertThat(load.errors()).isEmpty();
            assertThat(v.ok()).as(v.describe()).isTrue();
            assertThat(rows.acknowledged).hasSizeGreaterThan(50);
            List<String> fingerprint = sameEverywhere(cluster, "the schema fingerprint", SchemaFingerprint::describe);
            sameEverywhere(cluster, "the indexes", c -> Sql.column(c, "SELECT indexdef FROM pg_indexes "
                    + "WHERE schemaname = 'public' ORDER BY indexname"));
            String sha;
            try (Connection c = cluster.connect(1)) {
                sha = SchemaFingerprint.fingerprint(c);
            }
            for (int i = 1; i <= cluster.size(); i++) {
                int node = i;
                Await.until("node" + node + "'s recorded fingerprint (chorus.schema_fingerprint()) to be the group's",
                        Duration.ofSeconds(60), () -> {
                            try (Connection c = cluster.connect(node)) {
                                return sha.equals(Sql.one(c, "SELECT chorus.schema_fingerprint()"));
                            }
                        });
            }
            long added = issued.stream().filter(s -> s.contains("ADD COLUMN")).count();
            assertThat(fingerprint.stream().filter(l -> l.startsWith("column ") && l.contains(" \"a_r")).count())
                    .as("every added column is there").isEqualTo(added);
        }
    }

    /** One round: 2–3 nodes run one DDL statement each at the same moment; returns what each ran. */
    private static List<String> round(ChorusCluster cluster, int round, Random rnd) throws Exception {
        List<Integer> nodes = new ArrayList<>(List.of(1, 2, 3));
        Collections.shuffle(nodes, rnd);
        nodes = nodes.subList(0, 2 + rnd.nextInt(2));
        boolean sameTable = rnd.nextBoolean();
        String shared = TABLES.get(rnd.nextInt(TABLES.size()));
        List<String> statements = new ArrayList<>();
        for (int node : nodes) {
            String table = sameTable ? shared : TABLES.get(rnd.nextInt(TABLES.size()));
            statements.add(statement(rnd, round, node, table));
        }
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(nodes.size(), r -> new Thread(r, "ddl-round-" + round));
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                int node = nodes.get(i);
                String sql = statements.get(i);
                running.add(pool.submit(() -> runAt(cluster, go, node, sql)));
            }
            go.countDown();
            for (Future<?> f : running) {
                f.get(330, TimeUnit.SECONDS); // the sessions wait up to 300 s for the DDL order
            }
        } finally {
            pool.shutdownNow();
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            out.add("round " + round + " node" + nodes.get(i) + ": " + statements.get(i));
        }
        return out;
    }

    private static String statement(Random rnd, int round, int node, String table) {
        String name = "r" + round + "_n" + node;
        return switch (rnd.nextInt(4)) {
            case 0, 1 -> "ALTER TABLE " + table + " ADD COLUMN a_" + name + " int DEFAULT " + round;
            case 2 -> "CREATE INDEX " + (rnd.nextBoolean() ? "CONCURRENTLY " : "") + "i_" + name + " ON " + table
                    + " (v, id)";
            default -> "ALTER TABLE " + table + " ALTER COLUMN w TYPE " + TYPES.get(rnd.nextInt(TYPES.size()));
        };
    }

    private static Void runAt(ChorusCluster cluster, CountDownLatch go, int node, String sql) throws Exception {
        try (Connection c = cluster.connect(node); Statement st = c.createStatement()) {
            if (!go.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the start signal did not come within 30 s");
            }
            st.execute(sql);
            return null;
        } catch (SQLException e) {
            throw new IllegalStateException("on node" + node + ": " + sql + " failed: [" + e.getSQLState() + "] "
                    + e.getMessage(), e);
        }
    }

    private interface Reader {
        List<String> read(Connection c) throws SQLException;
    }

    private static List<String> sameEverywhere(ChorusCluster cluster, String what, Reader reader) throws SQLException {
        List<List<String>> all = new ArrayList<>();
        for (int i = 1; i <= cluster.size(); i++) {
            try (Connection c = cluster.connect(i)) {
                all.add(reader.read(c));
            }
        }
        for (int i = 1; i < all.size(); i++) {
            assertThat(SchemaFingerprint.describeDifference(all.get(i), all.get(0)))
                    .as(what + " of node" + (i + 1) + " against node1").isEmpty();
            assertThat(all.get(i)).as(what + " of node" + (i + 1)).isEqualTo(all.get(0));
        }
        return all.get(0);
    }

    /** Inserts into a random one of the altered tables, naming only id and v (columns no DDL here changes). */
    static final class Rows implements Workload {
        final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        final Set<Long> inDoubt = ConcurrentHashMap.newKeySet();

        @Override
        public String name() {
            return "cddl-rows";
        }

        @Override
        public String schema() {
            return "";
        }

        @Override
        public Object transaction(Connection c, Random rnd, Writer w) throws SQLException {
            long id = w.uniqueId();
            Sql.exec(c, "INSERT INTO " + TABLES.get(rnd.nextInt(TABLES.size())) + " (id, v) VALUES (?, ?)", id,
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
            return AcknowledgedRows.verify("d1..d3", nodes, "SELECT id FROM d1 UNION ALL SELECT id FROM d2 "
                    + "UNION ALL SELECT id FROM d3", acknowledged, inDoubt);
        }
    }
}
