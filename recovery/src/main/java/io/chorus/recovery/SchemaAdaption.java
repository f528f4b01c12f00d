package io.chorus.recovery;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.RelationName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Schema adaption for a full transfer (DESIGN §6): reads the donor's replicated schema inside its snapshot and
 * creates on the joiner what is missing — schemas, sequences, tables with their columns (defaults, identity and
 * generated columns), primary key, unique, check and exclusion constraints, indexes, then foreign keys — in replica
 * mode, so DDL capture does not replicate it. A table that exists on both sides must have the same columns (names
 * and types, in order); otherwise the transfer is refused with the difference. User-defined types, views, functions,
 * triggers and privileges are not copied: create them on the joiner first. Stateless.
 */
final class SchemaAdaption {
    private static final Logger LOG = LogManager.getLogger(SchemaAdaption.class);
    private static final String COLUMNS = """
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid),
                   a.attidentity, a.attgenerated = 's'
            FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """;
    private static final String CONSTRAINTS = """
            SELECT contype = 'f', format('CONSTRAINT %I %s', conname, pg_get_constraintdef(oid))
            FROM pg_constraint WHERE conrelid = ?::regclass AND contype IN ('p', 'u', 'c', 'x', 'f')
            ORDER BY contype <> 'p', conname
            """;
    private static final String INDEXES = """
            SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = ?::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY i.indexrelid
            """;
    private static final String SEQUENCES = """
            SELECT s.schemaname, s.sequencename, s.data_type::text, s.start_value, s.min_value, s.max_value,
                   s.increment_by, s.cycle, s.cache_size, s.last_value,
                   EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                           AND d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass AND d.deptype = 'i')
            FROM pg_sequences s WHERE s.schemaname NOT IN ('chorus', 'pg_catalog', 'information_schema')
            ORDER BY 1, 2
            """;

    private SchemaAdaption() {
    }

    /** Reads the donor's schema; {@code donor} must be inside the snapshot's transaction. Blocking. */
    static DonorSchema read(Connection donor) throws SQLException {
        List<DonorSchema.Table> tables = new ArrayList<>();
        for (RelationName t : UserTables.list(donor)) {
            List<String> constraints = new ArrayList<>();
            List<String> fks = new ArrayList<>();
            for (Object[] row : rows(donor, CONSTRAINTS, t)) {
                ((Boolean) row[0] ? fks : constraints).add((String) row[1]);
            }
            List<String> indexes = new ArrayList<>();
            for (Object[] row : rows(donor, INDEXES, t)) {
                indexes.add((String) row[0]);
            }
            tables.add(new DonorSchema.Table(t, columns(donor, t), constraints, fks, indexes, size(donor, t)));
        }
        List<DonorSchema.Sequence> seqs = new ArrayList<>();
        try (Statement st = donor.createStatement(); ResultSet rs = st.executeQuery(SEQUENCES)) {
            while (rs.next()) {
                long last = rs.getLong(10);
                seqs.add(new DonorSchema.Sequence(RelationName.of(rs.getString(1), rs.getString(2)), rs.getString(3),
                        rs.getLong(4), rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getBoolean(8), rs.getLong(9),
                        rs.wasNull() ? null : last, rs.getBoolean(11)));
            }
        }
        return new DonorSchema(tables, seqs);
    }

    /**
     * Creates what the joiner lacks and checks what it has; returns the names of the tables it created. Runs in one
     * transaction on {@code joiner} (replica mode); throws naming the table when an existing one differs.
     */
    static List<RelationName> adapt(Connection joiner, DonorSchema schema) throws SQLException {
        List<RelationName> created = new ArrayList<>();
        joiner.setAutoCommit(false);
        try (Statement st = joiner.createStatement()) {
            st.execute("SET LOCAL session_replication_role = replica");
            Set<String> schemas = new LinkedHashSet<>();
            schema.tables().forEach(t -> schemas.add(t.name().schema()));
            schema.sequences().forEach(s -> schemas.add(s.name().schema()));
            for (String s : schemas) {
                st.execute("CREATE SCHEMA IF NOT EXISTS " + RelationName.quoteIdent(s));
            }
            for (DonorSchema.Sequence s : schema.sequences()) {
                if (!s.identity()) {
                    st.execute(s.createSql());
                }
            }
            List<DonorSchema.Table> newTables = new ArrayList<>();
            boolean hold = TransferHold.available(joiner);
            for (DonorSchema.Table t : schema.tables()) {
                if (exists(joiner, t.name())) {
                    checkSameColumns(joiner, t);
                } else {
                    createTable(st, t);
                    if (hold) { // in the same transaction: the table is never writable without the refusal
                        TransferHold.createTrigger(st, t.name());
                    }
                    newTables.add(t);
                    created.add(t.name());
                }
            }
            for (DonorSchema.Table t : newTables) {
                for (String fk : t.foreignKeys()) {
                    st.execute("ALTER TABLE " + t.name().quoted() + " ADD " + fk);
                }
            }
            joiner.commit();
        } catch (SQLException | RuntimeException e) {
            joiner.rollback();
            throw e;
        } finally {
            joiner.setAutoCommit(true);
        }
        if (!created.isEmpty()) {
            LOG.info("schema adaption created {} table(s) from the donor's definitions: {}", created.size(), created);
        }
        return created;
    }

    private static void createTable(Statement st, DonorSchema.Table t) throws SQLException {
        List<String> parts = new ArrayList<>();
        t.columns().forEach(c -> parts.add(c.definition()));
        parts.addAll(t.constraints());
        st.execute("CREATE TABLE " + t.name().quoted() + " (" + String.join(", ", parts) + ")");
        for (String index : t.indexes()) {
            st.execute(index);
        }
    }

    private static void checkSameColumns(Connection joiner, DonorSchema.Table t) throws SQLException {
        List<String> mine = columns(joiner, t.name()).stream().map(c -> c.name() + " " + c.type()).toList();
        List<String> theirs = t.columns().stream().map(c -> c.name() + " " + c.type()).toList();
        if (!mine.equals(theirs)) {
            throw new ChorusException("table " + t.name() + " differs from the donor's: here " + mine + ", on the donor "
                    + theirs + "; make it identical (or drop it so that the transfer creates it) and enable again");
        }
    }

    private static boolean exists(Connection c, RelationName t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
            ps.setString(1, t.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static List<DonorSchema.Column> columns(Connection c, RelationName t) throws SQLException {
        List<DonorSchema.Column> out = new ArrayList<>();
        for (Object[] r : rows(c, COLUMNS, t)) {
            String identity = (String) r[4];
            out.add(new DonorSchema.Column((String) r[0], (String) r[1], (Boolean) r[2], (String) r[3],
                    identity == null || identity.isEmpty() ? ' ' : identity.charAt(0), (Boolean) r[5]));
        }
        return out;
    }

    private static long size(Connection c, RelationName t) throws SQLException {
        List<Object[]> r = rows(c, "SELECT pg_table_size(?::regclass)", t);
        return ((Number) r.get(0)[0]).longValue();
    }

    private static List<Object[]> rows(Connection c, String sql, RelationName t) throws SQLException {
        List<Object[]> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, t.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    Object[] row = new Object[n];
                    for (int i = 0; i < n; i++) {
                        row[i] = rs.getObject(i + 1);
                    }
                    out.add(row);
                }
            }
        }
        return out;
    }
}
