package io.chorus.schema;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.RelationName;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The catalog queries behind {@link Catalog}, {@link ReplicaIdentityPolicy} and {@link SchemaFingerprint}. Stateless;
 * each call runs its queries on the caller's connection (blocking), inside whatever transaction is open there.
 */
final class CatalogReader {
    /** Schemas never replicated: Chorus' own bookkeeping and the system's. */
    static final List<String> EXCLUDED_SCHEMAS = List.of("chorus", "pg_catalog", "information_schema");

    private static final String TABLES = """
            SELECT c.oid, n.nspname, c.relname, c.relreplident,
                   EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = c.oid) AS referenced
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind = 'r' AND c.relpersistence = 'p'
            """;
    private static final String USER_TABLES = TABLES + """
              AND n.nspname NOT IN ('chorus', 'pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
            ORDER BY n.nspname, c.relname
            """;
    private static final String ONE_TABLE = TABLES + " AND n.nspname = ? AND c.relname = ?";
    private static final String UNIQUE_INDEXES = """
            SELECT ic.relname, i.indisprimary, i.indisreplident,
                   (i.indpred IS NOT NULL OR i.indexprs IS NOT NULL) AS uncertifiable, %s AS nulls_not_distinct,
                   ARRAY(SELECT a.attname::text
                         FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                         WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) AS cols
            FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE i.indrelid = ? AND i.indisunique AND i.indisvalid
            ORDER BY ic.relname
            """;
    private static final String FOREIGN_KEYS = """
            SELECT con.conname, pn.nspname, pc.relname, ic.relname AS index_name,
                   (pc.relreplident = 'i' AND pi.indisreplident)
                       OR (pc.relreplident IN ('d', 'f') AND pi.indisprimary) AS is_identity,
                   ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                         JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord) AS cols,
                   ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                         JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord) AS pcols,
                   ARRAY(SELECT a.attname::text FROM unnest(pi.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                         JOIN pg_attribute a ON a.attrelid = pi.indrelid AND a.attnum = k.attnum
                         WHERE k.ord <= pi.indnkeyatts ORDER BY k.ord) AS icols
            FROM pg_constraint con
            JOIN pg_class pc ON pc.oid = con.confrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
            JOIN pg_index pi ON pi.indexrelid = con.conindid JOIN pg_class ic ON ic.oid = con.conindid
            WHERE con.contype = 'f' AND con.conrelid = ?
            ORDER BY con.conname
            """;
    private static final String COLUMNS = """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
            FROM pg_attribute a WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """;

    private CatalogReader() {
    }

    /** One table as loaded, with what the policy needs beyond {@link TableInfo}. */
    record Loaded(long oid, TableInfo info, boolean hasPrimaryKey, List<String> uncertifiableUniqueIndexes) {
    }

    /** One column for the fingerprint: name, formatted type, NOT NULL. */
    record ColumnDef(String name, String type, boolean notNull) {
    }

    static List<Loaded> userTables(Connection c) {
        List<TableRow> rows = new ArrayList<>();
        try {
            try (PreparedStatement ps = c.prepareStatement(USER_TABLES); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(TableRow.of(rs));
                }
            }
            List<Loaded> tables = new ArrayList<>(rows.size());
            for (TableRow row : rows) {
                tables.add(complete(c, row));
            }
            return tables;
        } catch (SQLException e) {
            throw failure("the list of user tables", e);
        }
    }

    /** The table, or null when there is no such ordinary, permanent table. */
    static Loaded table(Connection c, RelationName name) {
        try {
            TableRow row;
            try (PreparedStatement ps = c.prepareStatement(ONE_TABLE)) {
                ps.setString(1, name.schema());
                ps.setString(2, name.table());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    row = TableRow.of(rs);
                }
            }
            return complete(c, row);
        } catch (SQLException e) {
            throw failure("table " + name, e);
        }
    }

    static List<ColumnDef> columns(Connection c, long oid) {
        try (PreparedStatement ps = c.prepareStatement(COLUMNS)) {
            ps.setLong(1, oid);
            List<ColumnDef> columns = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(new ColumnDef(rs.getString(1), rs.getString(2), rs.getBoolean(3)));
                }
            }
            return columns;
        } catch (SQLException e) {
            throw failure("the columns of table oid " + oid, e);
        }
    }

    /** A catalog read that failed: retriable when the connection broke or the server is shutting down. */
    static ChorusException failure(String what, SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        boolean retriable = state.startsWith("08") || state.equals("57P01") || state.equals("40001")
                || state.equals("40P01");
        return new ChorusException("cannot read the catalog for " + what + ": " + e.getMessage() + " (SQLState "
                + state + ")" + (retriable ? "; retry on a fresh connection" : "; check the connection's database and rights"),
                e, retriable);
    }

    private record TableRow(long oid, RelationName name, char identity, boolean referenced) {
        static TableRow of(ResultSet rs) throws SQLException {
            return new TableRow(rs.getLong(1), RelationName.of(rs.getString(2), rs.getString(3)),
                    rs.getString(4).charAt(0), rs.getBoolean(5));
        }
    }

    private static Loaded complete(Connection c, TableRow row) throws SQLException {
        long oid = row.oid();
        char identity = row.identity();
        List<String> identityColumns = List.of();
        List<UniqueIndex> unique = new ArrayList<>();
        List<String> uncertifiable = new ArrayList<>();
        boolean hasPrimaryKey = false;
        // indnullsnotdistinct exists from PostgreSQL 15 on
        String nullsNotDistinct = c.getMetaData().getDatabaseMajorVersion() >= 15 ? "i.indnullsnotdistinct" : "false";
        try (PreparedStatement ps = c.prepareStatement(UNIQUE_INDEXES.formatted(nullsNotDistinct))) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String index = rs.getString(1);
                    boolean primary = rs.getBoolean(2);
                    boolean isIdentity = identity == 'i' ? rs.getBoolean(3) : primary && identity != 'n';
                    hasPrimaryKey |= primary;
                    List<String> columns = strings(rs.getArray(6));
                    if (isIdentity) {
                        identityColumns = columns;
                    } else if (rs.getBoolean(4)) {
                        uncertifiable.add(index);
                    } else {
                        unique.add(new UniqueIndex(index, columns, rs.getBoolean(5)));
                    }
                }
            }
        }
        TableInfo info = new TableInfo(row.name(), identity, identityColumns, unique, foreignKeys(c, oid),
                row.referenced());
        return new Loaded(oid, info, hasPrimaryKey, uncertifiable);
    }

    private static List<ForeignKey> foreignKeys(Connection c, long oid) throws SQLException {
        List<ForeignKey> keys = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(FOREIGN_KEYS)) {
            ps.setLong(1, oid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(foreignKey(rs));
                }
            }
        }
        return keys;
    }

    /** The foreign key with both column lists put in the order of the parent's index. */
    private static ForeignKey foreignKey(ResultSet rs) throws SQLException {
        String parentIndex = rs.getBoolean(5) ? KeyDeriver.IDENTITY_INDEX : rs.getString(4);
        RelationName parent = RelationName.of(rs.getString(2), rs.getString(3));
        List<String> cols = strings(rs.getArray(6));
        List<String> pcols = strings(rs.getArray(7));
        List<String> indexCols = strings(rs.getArray(8));
        if (indexCols.size() != pcols.size() || !indexCols.containsAll(pcols)) {
            return new ForeignKey(rs.getString(1), cols, parent, parentIndex, pcols);
        }
        List<String> childInIndexOrder = new ArrayList<>();
        for (String ic : indexCols) {
            childInIndexOrder.add(cols.get(pcols.indexOf(ic)));
        }
        return new ForeignKey(rs.getString(1), childInIndexOrder, parent, parentIndex, indexCols);
    }

    private static List<String> strings(Array array) throws SQLException {
        return List.copyOf(Arrays.asList((String[]) array.getArray()));
    }
}
