package io.chorus.it.harness;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Small JDBC helpers for the harness, workloads and checks. Stateless; blocks for the statement's duration. */
public final class Sql {
    private Sql() {
    }

    /** The first column of the first row of {@code sql}; throws when there is no row. */
    public static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            if (!rs.next()) {
                throw new SQLException("no row from: " + sql);
            }
            return rs.getString(1);
        }
    }

    /** The first column of the first row of {@code sql}, as a long. */
    public static long number(Connection c, String sql) throws SQLException {
        return Long.parseLong(one(c, sql));
    }

    /** The first column of every row. */
    public static List<String> column(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** Runs one parameterised statement and returns the update count. */
    public static int exec(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.execute();
            return Math.max(ps.getUpdateCount(), 0);
        }
    }

    /** Whether an error means the connection (or the server behind it) is gone, by SQLState class 08 / 57P. */
    public static boolean connectionLost(SQLException e) {
        String s = e.getSQLState();
        return s == null || s.startsWith("08") || s.startsWith("57P");
    }

    /** Whether the node's own constraints or concurrency control refused a transaction (class 23, 40001, 40P01). */
    public static boolean refusedLocally(SQLException e) {
        String s = e.getSQLState();
        return s != null && (s.startsWith("23") || s.equals("40001") || s.equals("40P01"));
    }
}
