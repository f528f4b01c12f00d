package io.chorus.it.bench;

import io.chorus.it.harness.Await;
import io.chorus.it.harness.Sql;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;

/**
 * PostgreSQL's own logical replication for comparison: a publisher and a subscriber server with the same schema, a
 * publication of every table and a subscription without initial copy. Node 1 is the publisher, node 2 the subscriber.
 */
final class NativePair implements AutoCloseable {
    static final String DB = "bench";
    private final PgServer publisher;
    private final PgServer subscriber;

    private NativePair(PgServer publisher, PgServer subscriber) {
        this.publisher = publisher;
        this.subscriber = subscriber;
    }

    static NativePair start(String schema) throws SQLException {
        PgServer pub = PgServer.builder().name("native-pub").embedded().start();
        PgServer sub = PgServer.builder().name("native-sub").embedded().start();
        NativePair pair = new NativePair(pub, sub);
        try {
            for (PgServer s : List.of(pub, sub)) {
                s.createDatabase(DB);
                try (Connection c = s.connect(DB); Statement st = c.createStatement()) {
                    st.execute(schema);
                }
            }
            try (Connection c = pub.connect(DB); Statement st = c.createStatement()) {
                st.execute("CREATE PUBLICATION bench_pub FOR ALL TABLES");
            }
            try (Connection c = sub.connect(DB); Statement st = c.createStatement()) {
                st.execute("CREATE SUBSCRIPTION bench_sub CONNECTION 'host=127.0.0.1 port=" + pub.port() + " dbname=" + DB
                        + " user=postgres' PUBLICATION bench_pub WITH (copy_data = false)");
            }
            try (Connection c = pub.connect(DB)) {
                Await.until("the native subscription's walsender on the publisher", Duration.ofSeconds(60),
                        () -> Sql.number(c, "SELECT count(*) FROM pg_stat_replication") > 0);
            }
        } catch (RuntimeException | SQLException e) {
            pair.close();
            throw e;
        }
        return pair;
    }

    Connection connect(int node) throws SQLException {
        return (node == 1 ? publisher : subscriber).connect(DB);
    }

    List<PgServer> servers() {
        return List.of(publisher, subscriber);
    }

    /** Pauses (false) or resumes (true) applying on the subscriber. */
    void subscription(boolean enabled) throws SQLException {
        try (Connection c = subscriber.connect(DB); Statement st = c.createStatement()) {
            st.execute("ALTER SUBSCRIPTION bench_sub " + (enabled ? "ENABLE" : "DISABLE"));
        }
    }

    /** Blocks until the subscriber has applied everything the publisher wrote so far (bounded). */
    void awaitCaughtUp(Duration timeout) throws SQLException {
        try (Connection p = publisher.connect(DB)) {
            String lsn = Sql.one(p, "SELECT pg_current_wal_lsn()::text");
            Await.until("the native subscriber to apply up to " + lsn, timeout, () -> "true".equals(Sql.one(p,
                    "SELECT coalesce(bool_and(confirmed_flush_lsn >= '" + lsn + "'::pg_lsn), false)::text FROM pg_replication_slots "
                            + "WHERE slot_name = 'bench_sub'")));
        }
    }

    @Override
    public void close() {
        try (Connection c = subscriber.connect(DB); Statement st = c.createStatement()) {
            st.execute("DROP SUBSCRIPTION IF EXISTS bench_sub");
        } catch (SQLException | RuntimeException ignored) {
            // the servers go away below anyway
        }
        subscriber.close();
        publisher.close();
    }
}
