package io.chorus.coordinator.apply;

import io.chorus.changeset.Gsn;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** One database of a test server with its own helper origin prefix (origins are server-wide). */
record TestDb(String url, String originPrefix) {
    static final Duration WAIT = Duration.ofSeconds(60);

    static TestDb create(PgServer pg, String name) throws SQLException {
        pg.createDatabase(name);
        return new TestDb(pg.jdbcUrl(name), name + "_h");
    }

    ApplierConfig.Builder config() {
        return ApplierConfig.builder(url).originPrefix(originPrefix);
    }

    void exec(String... sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    long queryLong(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Every row of the query's first column, as text, in query order. */
    List<String> column(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    Gsn watermark() throws SQLException {
        try (Connection c = DriverManager.getConnection(url)) {
            return ApplyProgress.readWatermark(c, originPrefix);
        }
    }

    /** Terminates every helper backend of this database; returns how many were terminated. */
    long terminateHelpers() throws SQLException {
        return queryLong("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name LIKE '"
                + originPrefix + "%'");
    }
}
