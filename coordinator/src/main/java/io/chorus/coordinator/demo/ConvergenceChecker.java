package io.chorus.coordinator.demo;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compares replicated databases: every user table's full content (ordered by primary key) and the conflict log
 * ({@code chorus.conflicts} without its local timestamp) on every node. On a difference it reports the first one
 * exactly: table, key, and each node's row. Read-only; the caller quiesces the cluster first.
 */
public final class ConvergenceChecker {

    /** The outcome: {@code converged()} or the first difference, described for a person. */
    public record Result(boolean converged, String firstDifference, Map<String, Long> rowsPerTable) {
    }

    private ConvergenceChecker() {
    }

    public static Result check(Map<String, Connection> nodes) throws SQLException {
        Map.Entry<String, Connection> first = nodes.entrySet().iterator().next();
        List<String> tables = tables(first.getValue());
        tables.add("chorus.conflicts");
        Map<String, Long> rows = new LinkedHashMap<>();
        for (String table : tables) {
            Map<String, String> hashes = new LinkedHashMap<>();
            for (Map.Entry<String, Connection> n : nodes.entrySet()) {
                hashes.put(n.getKey(), hash(n.getValue(), table));
            }
            rows.put(table, count(first.getValue(), table));
            if (hashes.values().stream().distinct().count() > 1) {
                return new Result(false, firstDifference(nodes, table), rows);
            }
        }
        return new Result(true, null, rows);
    }

    /** User tables (not chorus, not system), schema-qualified and quoted, sorted. */
    static List<String> tables(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        + "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('chorus', 'information_schema') "
                        + "AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static String projection(String table) {
        return table.equals("chorus.conflicts")
                ? "(gsn, change_index, kind, loser_origin, winner_gsn, winner_origin, relation, key, cause_gsn)::text"
                : "t::text";
    }

    private static String order(String table) {
        return table.equals("chorus.conflicts") ? "gsn, change_index" : "t::text";
    }

    private static String hash(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT md5(coalesce(string_agg("
                + projection(table) + ", E'\\n' ORDER BY " + order(table) + "), '')) FROM " + table + " t")) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long count(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String firstDifference(Map<String, Connection> nodes, String table) throws SQLException {
        String key = table.equals("chorus.conflicts") ? "gsn || '/' || change_index" : keyExpression(nodes.values().iterator().next(), table);
        Map<String, Map<String, String>> byNode = new LinkedHashMap<>();
        TreeSet<String> keys = new TreeSet<>();
        for (Map.Entry<String, Connection> n : nodes.entrySet()) {
            Map<String, String> rows = new TreeMap<>();
            try (Statement st = n.getValue().createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT (" + key + ")::text, " + projection(table) + " FROM " + table + " t")) {
                while (rs.next()) {
                    rows.put(rs.getString(1), rs.getString(2));
                }
            }
            byNode.put(n.getKey(), rows);
            keys.addAll(rows.keySet());
        }
        for (String k : keys) {
            List<String> versions = new ArrayList<>();
            for (Map<String, String> rows : byNode.values()) {
                versions.add(rows.get(k));
            }
            if (versions.stream().distinct().count() > 1) {
                StringBuilder sb = new StringBuilder("table " + table + ", key " + k + ":");
                byNode.forEach((node, rows) -> sb.append("\n  ").append(node).append(": ")
                        .append(Objects.requireNonNullElse(rows.get(k), "(no row)")));
                return sb.toString();
            }
        }
        return "table " + table + " differs (same rows, different order or content hash)";
    }

    private static String keyExpression(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT string_agg(quote_ident(a.attname), ' || ''/'' || ' ORDER BY array_position(i.indkey, a.attnum)) "
                        + "FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                        + "WHERE i.indrelid = '" + table.replace("'", "''") + "'::regclass AND i.indisprimary")) {
            rs.next();
            String k = rs.getString(1);
            return k == null ? "t::text" : k;
        }
    }
}
