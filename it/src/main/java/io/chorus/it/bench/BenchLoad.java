package io.chorus.it.bench;

import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Random;

/**
 * The two benchmark workloads. TPC-B-like: pgbench's transaction (account, teller and branch balance updates and a
 * history insert) over 10 branches, 100 tellers and {@code 10 000} accounts; history ids are unique per writer so
 * every node can insert. Insert-only: one 200-byte row per transaction. Stateless; safe to share.
 */
enum BenchLoad {
    TPCB("tpcb") {
        @Override
        String schema() {
            return "CREATE TABLE bench_branches (bid int PRIMARY KEY, bbalance bigint NOT NULL);\n"
                    + "CREATE TABLE bench_tellers (tid int PRIMARY KEY, bid int NOT NULL, tbalance bigint NOT NULL);\n"
                    + "CREATE TABLE bench_accounts (aid int PRIMARY KEY, bid int NOT NULL, abalance bigint NOT NULL, filler char(84));\n"
                    + "CREATE TABLE bench_history (hid bigint PRIMARY KEY, tid int, bid int, aid int, delta int, mtime timestamptz);\n"
                    + "INSERT INTO bench_branches SELECT g, 0 FROM generate_series(1, 10) g;\n"
                    + "INSERT INTO bench_tellers SELECT g, 1 + (g - 1) / 10, 0 FROM generate_series(1, 100) g;\n"
                    + "INSERT INTO bench_accounts SELECT g, 1 + (g - 1) / 1000, 0, '' FROM generate_series(1, 10000) g;\n";
        }

        @Override
        void transaction(Connection c, Random rnd, long uniqueId) throws SQLException {
            int aid = 1 + rnd.nextInt(10_000);
            int tid = 1 + rnd.nextInt(100);
            int bid = 1 + rnd.nextInt(10);
            int delta = rnd.nextInt(10_001) - 5_000;
            Sql.exec(c, "UPDATE bench_accounts SET abalance = abalance + ? WHERE aid = ?", delta, aid);
            Sql.one(c, "SELECT abalance::text FROM bench_accounts WHERE aid = " + aid);
            Sql.exec(c, "UPDATE bench_tellers SET tbalance = tbalance + ? WHERE tid = ?", delta, tid);
            Sql.exec(c, "UPDATE bench_branches SET bbalance = bbalance + ? WHERE bid = ?", delta, bid);
            Sql.exec(c, "INSERT INTO bench_history VALUES (?, ?, ?, ?, ?, clock_timestamp())", uniqueId, tid, bid, aid, delta);
        }
    },
    INSERT("insert") {
        @Override
        String schema() {
            return "CREATE TABLE bench_events (id bigint PRIMARY KEY, payload text NOT NULL);\n";
        }

        @Override
        void transaction(Connection c, Random rnd, long uniqueId) throws SQLException {
            Sql.exec(c, "INSERT INTO bench_events VALUES (?, repeat(md5(?::text), 6))", uniqueId, uniqueId);
        }
    };

    /** The heartbeat table the lag probe writes (one row per writing node) and every node's schema includes. */
    static final String HEARTBEAT = "CREATE TABLE bench_heartbeat (node int PRIMARY KEY, seq bigint NOT NULL, at timestamptz NOT NULL);\n"
            + "INSERT INTO bench_heartbeat SELECT g, 0, '2000-01-01 00:00+00' FROM generate_series(1, 5) g;\n";

    final String label;

    BenchLoad(String label) {
        this.label = label;
    }

    abstract String schema();

    /** One transaction's statements (auto-commit off; the caller commits). */
    abstract void transaction(Connection c, Random rnd, long uniqueId) throws SQLException;
}
