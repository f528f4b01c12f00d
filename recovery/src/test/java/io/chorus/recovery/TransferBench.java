package io.chorus.recovery;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Full-transfer throughput against PostgreSQL's own initial copy, same data, same run: a donor holding two tables
 * (the wide one about 300 bytes a row) is copied (1) by the recovery module's path — schema adaption, then parallel
 * binary COPY from an exported snapshot, as a joining node runs it — into an empty database, and (2) by a native
 * subscription with {@code copy_data = true} into another server that has the same empty tables (its table-sync
 * workers, {@code max_sync_workers_per_subscription} = 2 by default). Prints rows, MB and seconds of each.
 *
 * <p>Not a test: {@code main(rows, rounds)}. Starts three PostgreSQL servers: run it through the cluster slot.
 * {@code cd recovery && mvn -o -q test-compile dependency:build-classpath -Dmdep.includeScope=test
 * -Dmdep.outputFile=target/cp.txt && java -cp target/test-classes:target/classes:$(cat target/cp.txt)
 * io.chorus.recovery.TransferBench 1000000 2}
 */
public final class TransferBench {
    private static final String SCHEMA = """
            CREATE TABLE events (id bigint PRIMARY KEY, account int NOT NULL, payload text NOT NULL, at timestamptz NOT NULL);
            CREATE TABLE accounts (id int PRIMARY KEY, name text NOT NULL UNIQUE, balance bigint NOT NULL);
            """;

    private TransferBench() {
    }

    public static void main(String[] args) throws Exception {
        long rows = args.length > 0 ? Long.parseLong(args[0]) : 1_000_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        try (PgServer donor = PgServer.start("bench-donor"); PgServer joiner = PgServer.start("bench-joiner");
             PgServer subscriber = PgServer.start("bench-native")) {
            donor.createDatabase("app");
            try (Connection d = donor.connect("app"); Statement st = d.createStatement()) {
                st.execute(SCHEMA);
                st.execute("INSERT INTO accounts SELECT g, 'account ' || g, g * 10 FROM generate_series(1, " + Math.max(1, rows / 10) + ") g");
                st.execute("INSERT INTO events SELECT g, 1 + g % 1000, repeat(md5(g::text), 8), '2026-01-01'::timestamptz "
                        + "+ g * interval '1 ms' FROM generate_series(1, " + rows + ") g");
                st.execute("VACUUM ANALYZE");
                st.execute("CREATE PUBLICATION bench_copy FOR ALL TABLES");
                System.out.printf("donor: %d + %d rows, %.1f MB (tables and indexes)%n", rows, Math.max(1, rows / 10),
                        number(d, "SELECT pg_total_relation_size('events') + pg_total_relation_size('accounts')") / 1e6);
            }
            for (int round = 1; round <= rounds; round++) {
                double chorus = chorusCopy(donor, joiner, "app_" + round);
                double nativeCopy = nativeCopy(donor, subscriber, "app_" + round);
                System.out.printf("round %d: chorus full transfer %.1f s, native copy_data %.1f s (chorus/native %.2f)%n",
                        round, chorus, nativeCopy, chorus / nativeCopy);
            }
        }
    }

    /** The joiner's copy as a full transfer runs it; returns seconds. */
    private static double chorusCopy(PgServer donor, PgServer joiner, String db) throws Exception {
        joiner.createDatabase(db);
        Connector from = app -> donor.connect("app");
        Connector to = app -> joiner.connect(db);
        long t0 = System.nanoTime();
        TransferProgress p;
        try (SnapshotExport export = SnapshotExport.open(from); Connection schemaConn = donor.connect("app");
             Connection j = joiner.connect(db)) {
            schemaConn.setAutoCommit(false);
            try (Statement st = schemaConn.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                st.execute("SET TRANSACTION SNAPSHOT '" + export.snapshotId() + "'");
            }
            DonorSchema schema = SchemaAdaption.read(schemaConn);
            SchemaAdaption.adapt(j, schema);
            p = new TableCopier(from, to, export.snapshotId(), 4).copy(schema.tables(), NodeId.of("donor"), Gsn.of(1), x -> { });
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("  chorus: %d rows, %.1f MB of COPY data in %.1f s (%.0f rows/s, %.1f MB/s)%n", p.rows(),
                p.bytes() / 1e6, s, p.rows() / s, p.bytes() / 1e6 / s);
        return s;
    }

    /** A native subscription with copy_data = true into empty tables; returns seconds until every table is ready. */
    private static double nativeCopy(PgServer donor, PgServer subscriber, String db) throws Exception {
        subscriber.createDatabase(db);
        try (Connection c = subscriber.connect(db); Statement st = c.createStatement()) {
            st.execute(SCHEMA);
            long t0 = System.nanoTime();
            st.execute("CREATE SUBSCRIPTION " + db + "_sub CONNECTION 'host=127.0.0.1 port=" + donor.port()
                    + " dbname=app user=postgres' PUBLICATION bench_copy WITH (copy_data = true)");
            long deadline = t0 + TimeUnit.HOURS.toNanos(1);
            while (number(c, "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'") > 0
                    || number(c, "SELECT count(*) FROM pg_subscription_rel") < 2) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the native subscription " + db + "_sub did not finish its initial "
                            + "copy within an hour");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50)); // polling the catalog, bounded above
            }
            double s = (System.nanoTime() - t0) / 1e9;
            long copied = number(c, "SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM accounts)");
            System.out.printf("  native: %d rows in %.1f s (%.0f rows/s)%n", copied, s, copied / s);
            st.execute("ALTER SUBSCRIPTION " + db + "_sub DISABLE");
            st.execute("ALTER SUBSCRIPTION " + db + "_sub SET (slot_name = NONE)");
            st.execute("DROP SUBSCRIPTION " + db + "_sub");
            try (Connection d = donor.connect("app"); Statement ds = d.createStatement()) {
                ds.execute("SELECT pg_drop_replication_slot('" + db + "_sub')");
            }
            return s;
        }
    }

    private static long number(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
