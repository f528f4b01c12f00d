package io.chorus.coordinator.apply;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Relation;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Throughput harness (not a test): drains a backlog of N small update transactions (pgbench-like accounts) and N
 * insert-only transactions, once through PostgreSQL's native logical replication (subscription enabled after the
 * backlog was written) and once through the Chorus applier (units built in memory, as the certifier would deliver
 * them), and prints transactions per second and the ratio.
 *
 * <p>Run: {@code mvn -o -pl coordinator test-compile exec:java}-style, or from the IDE, with
 * {@code -Dbench.n=50000 -Dbench.pool=4 -Dbench.batch=100}.
 */
public final class ApplyBench {
    private static final int ACCOUNTS = 100_000;
    private static final String FILLER = " ".repeat(84);
    private static final Duration DRAIN_LIMIT = Duration.ofMinutes(10);
    private static final String[] DDL = {
        "CREATE TABLE accounts (aid int PRIMARY KEY, abalance int NOT NULL, filler char(84))",
        "INSERT INTO accounts SELECT i, 0, '' FROM generate_series(1, " + ACCOUNTS + ") i",
        "CREATE TABLE hist (id int PRIMARY KEY, aid int NOT NULL, delta int NOT NULL, filler char(22))",
        "CREATE TABLE marker (id int PRIMARY KEY, v int NOT NULL)", "INSERT INTO marker VALUES (1, 0)",
        "VACUUM ANALYZE"};

    private ApplyBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.getInteger("bench.n", 50_000);
        int pool = Integer.getInteger("bench.pool", 4);
        int batch = Integer.getInteger("bench.batch", 100);
        try (PgServer pub = PgServer.start("bench-pub"); PgServer sub = PgServer.start("bench-sub")) {
            // a running sidecar is warm: let the JIT see the apply path before measuring
            chorusDrain(sub, "warmupd", Math.min(n, 30_000), true, pool, batch);
            chorusDrain(sub, "warmins", Math.min(n, 30_000), false, pool, batch);
            double nativeUpd = nativeDrain(pub, sub, "upd", n, true);
            double nativeIns = nativeDrain(pub, sub, "ins", n, false);
            double chorusUpd = chorusDrain(sub, "cupd", n, true, pool, batch);
            double chorusIns = chorusDrain(sub, "cins", n, false, pool, batch);
            System.out.printf("%nApplyBench n=%d pool=%d maxBatch=%d (PostgreSQL %d)%n", n, pool, batch,
                    sub.majorVersion());
            System.out.printf("  update tx/s: native %,.0f  chorus %,.0f  ratio %.2f%n", nativeUpd, chorusUpd,
                    chorusUpd / nativeUpd);
            System.out.printf("  insert tx/s: native %,.0f  chorus %,.0f  ratio %.2f%n", nativeIns, chorusIns,
                    chorusIns / nativeIns);
        }
    }

    /** Writes the backlog on the publisher with the subscription disabled, then times the subscriber's drain. */
    private static double nativeDrain(PgServer pub, PgServer sub, String db, int n, boolean updates) throws Exception {
        pub.createDatabase(db);
        sub.createDatabase(db);
        exec(pub.jdbcUrl(db), DDL);
        exec(pub.jdbcUrl(db), "CREATE PUBLICATION p FOR TABLE accounts, hist, marker", workloadProcedure());
        exec(sub.jdbcUrl(db), DDL);
        exec(sub.jdbcUrl(db), "CREATE SUBSCRIPTION s_" + db + " CONNECTION 'host=127.0.0.1 port=" + pub.port()
                + " dbname=" + db + " user=postgres' PUBLICATION p WITH (copy_data = false, enabled = false)");
        exec(pub.jdbcUrl(db), "CALL workload(" + n + ", " + updates + ")");
        long start = System.nanoTime();
        exec(sub.jdbcUrl(db), "ALTER SUBSCRIPTION s_" + db + " ENABLE");
        awaitMarker(sub.jdbcUrl(db), n, "native subscriber " + db);
        double rate = (n + 1) / seconds(start);
        verify(sub.jdbcUrl(db), n, updates);
        exec(sub.jdbcUrl(db), "ALTER SUBSCRIPTION s_" + db + " DISABLE",
                "ALTER SUBSCRIPTION s_" + db + " SET (slot_name = NONE)", "DROP SUBSCRIPTION s_" + db);
        exec(pub.jdbcUrl(db), "SELECT pg_drop_replication_slot('s_" + db + "')");
        System.out.printf("native %s: %d tx in %.2f s = %,.0f tx/s%n", updates ? "updates" : "inserts", n + 1,
                (n + 1) / rate, rate);
        return rate;
    }

    private static String workloadProcedure() {
        String aid = "1 + (i::bigint * 7919) % " + ACCOUNTS;
        return "CREATE PROCEDURE workload(n int, updates bool) LANGUAGE plpgsql AS $$\n"
                + "BEGIN\n"
                + "  FOR i IN 1..n LOOP\n"
                + "    IF updates THEN UPDATE accounts SET abalance = abalance + 1 WHERE aid = " + aid + ";\n"
                + "    ELSE INSERT INTO hist VALUES (i, " + aid + ", 1, '');\n"
                + "    END IF;\n"
                + "    COMMIT;\n"
                + "  END LOOP;\n"
                + "  UPDATE marker SET v = n;\n"
                + "  COMMIT;\n"
                + "END $$";
    }

    /** Applies the same backlog, as apply units, through the Chorus applier. */
    private static double chorusDrain(PgServer sub, String db, int n, boolean updates, int pool, int batch)
            throws Exception {
        sub.createDatabase(db);
        exec(sub.jdbcUrl(db), DDL);
        List<ApplyUnit> units = updates ? updateUnits(n) : insertUnits(n);
        Relation marker = Units.relation("marker", "id", "v");
        units.add(Units.remote(n + 1, "node2", Units.update(marker, "1", "" + n)));
        ApplierConfig cfg = ApplierConfig.builder(sub.jdbcUrl(db)).originPrefix(db + "_h").poolSize(pool)
                .maxBatch(batch).queueCapacity(20_000).build();
        double rate;
        try (Applier applier = new Applier(cfg, ApplyListener.NONE)) {
            long start = System.nanoTime();
            for (ApplyUnit u : units) {
                applier.submit(u);
            }
            applier.awaitApplied(Gsn.of(n + 1), DRAIN_LIMIT);
            rate = (n + 1) / seconds(start);
            System.out.printf("chorus %s: %d tx in %.2f s = %,.0f tx/s (%d transactions, %d retries, %d hidden "
                    + "conflicts)%n", updates ? "updates" : "inserts", n + 1, (n + 1) / rate, rate,
                    applier.transactions(), applier.retries(), applier.hiddenConflicts());
        }
        verify(sub.jdbcUrl(db), n, updates);
        return rate;
    }

    private static List<ApplyUnit> updateUnits(int n) {
        Relation accounts = Units.relation("accounts", "aid", "abalance", "filler");
        int[] balance = new int[ACCOUNTS + 1];
        List<ApplyUnit> units = new ArrayList<>(n + 1);
        for (int i = 1; i <= n; i++) {
            int aid = 1 + (int) ((long) i * 7919 % ACCOUNTS);
            balance[aid]++;
            units.add(Units.remote(i, "node2", Units.update(accounts, "" + aid, "" + balance[aid], FILLER)));
        }
        return units;
    }

    private static List<ApplyUnit> insertUnits(int n) {
        Relation hist = Units.relation("hist", "id", "aid", "delta", "filler");
        List<ApplyUnit> units = new ArrayList<>(n + 1);
        for (int i = 1; i <= n; i++) {
            int aid = 1 + (int) ((long) i * 7919 % ACCOUNTS);
            units.add(Units.remote(i, "node2", Units.insert(hist, "" + i, "" + aid, "1", " ".repeat(22))));
        }
        return units;
    }

    private static void verify(String url, int n, boolean updates) throws SQLException {
        String sql = updates ? "SELECT sum(abalance) FROM accounts" : "SELECT count(*) FROM hist";
        long got = queryLong(url, sql);
        if (got != n) {
            throw new IllegalStateException("backlog not applied exactly: " + sql + " = " + got + ", expected " + n);
        }
    }

    private static void awaitMarker(String url, int n, String what) throws SQLException {
        long deadline = System.nanoTime() + DRAIN_LIMIT.toNanos();
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            while (true) {
                try (ResultSet rs = st.executeQuery("SELECT v FROM marker")) {
                    rs.next();
                    if (rs.getInt(1) == n) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(what + " did not drain the backlog within " + DRAIN_LIMIT);
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // measurement poll, not synchronisation
            }
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static void exec(String url, String... sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    private static long queryLong(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
