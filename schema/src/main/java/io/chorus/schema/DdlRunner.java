package io.chorus.schema;

import io.chorus.changeset.Column;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Runs a replicated DDL statement inside an open apply transaction, as its origin ran it: same search_path, same
 * role where this connection may act as it (else as the connection's own role, with a warning). The search_path and
 * role are restored afterwards, for the rest of the transaction. Also adapts a row change written against a table
 * definition the DDL since changed (see {@link #withExistingColumns}).
 *
 * <p>Stateless and thread-safe; blocks on the connection, which the caller owns (not thread-safe itself).
 */
public final class DdlRunner {
    private static final Logger LOG = LogManager.getLogger(DdlRunner.class);

    private DdlRunner() {
    }

    /**
     * Runs {@code ddl}'s statement in the connection's open transaction (no commit). A relations-only message runs
     * nothing.
     *
     * @return whether a statement ran (the schema may have changed: statement and catalog caches are stale)
     * @throws SQLException as the statement failed (same SQLState; the message names the statement, the error and the
     *                      fix); the transaction is then aborted
     */
    public static boolean run(Connection c, DdlMessage ddl) throws SQLException {
        Optional<String> sql = ddl.statementForTransaction();
        if (sql.isEmpty()) {
            return false;
        }
        String path = scalar(c, "SELECT current_setting('search_path')");
        setLocal(c, "search_path", ddl.searchPath());
        boolean asRole = mayActAs(c, ddl.role());
        if (asRole) {
            setLocal(c, "role", ddl.role());
        }
        try (Statement st = c.createStatement()) {
            st.execute(sql.get());
        } catch (SQLException e) {
            throw explained(ddl, sql.get(), e);
        }
        if (asRole) {
            setLocal(c, "role", "none");
        }
        setLocal(c, "search_path", path);
        LOG.info("ran replicated {} as {} (search_path {}): {}", ddl.tag(), asRole ? ddl.role() : "the helper's role",
                ddl.searchPath(), abbreviate(sql.get()));
        return true;
    }

    /**
     * The statement's failure with what an operator needs: the statement, its role and search_path, the server's
     * error and the fix. Keeps the SQLState, so callers still classify it (a retriable one is re-run).
     */
    static SQLException explained(DdlMessage ddl, String sql, SQLException e) {
        String fix = e.getSQLState() != null && e.getSQLState().startsWith("42")
                ? "this node's schema differs from the origin's: make the object match the origin's (or drop the "
                + "local difference) with SET chorus.replicate_ddl = off, then restart the sidecar"
                : "fix the cause on this node, then restart the sidecar";
        SQLException out = new SQLException("replicated " + ddl.tag() + " statement failed on this node: "
                + abbreviate(sql) + " (role " + ddl.role() + ", search_path " + ddl.searchPath() + "): ["
                + e.getSQLState() + "] " + e.getMessage() + "; the statement is never skipped: " + fix,
                e.getSQLState(), e.getErrorCode(), e);
        return out;
    }

    private static boolean mayActAs(Connection c, String role) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regrole(?) IS NOT NULL AND current_user <> ? "
                + "AND pg_has_role(current_user, to_regrole(?), 'MEMBER'), to_regrole(?) IS NULL")) {
            for (int i = 1; i <= 4; i++) {
                ps.setString(i, quoteRole(role));
            }
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(2)) {
                    LOG.warn("role {} of a replicated DDL statement does not exist on this node; it runs as the "
                            + "helper's role (create the role on every node to keep object owners identical)", role);
                }
                return rs.getBoolean(1);
            }
        }
    }

    private static String quoteRole(String role) {
        return '"' + role.replace("\"", "\"\"") + '"';
    }

    private static void setLocal(Connection c, String name, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT set_config(?, ?, true)")) {
            ps.setString(1, name);
            ps.setString(2, value);
            ps.execute();
        }
    }

    private static String scalar(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String abbreviate(String sql) {
        String one = sql.replaceAll("\\s+", " ");
        return one.length() <= 200 ? one : one.substring(0, 200) + "...";
    }

    /** How many columns a table lost to DROP COLUMN (its dropped attributes); may be cached by the caller. */
    @FunctionalInterface
    public interface DroppedColumns {
        int of(RelationName table) throws SQLException;
    }

    /** The number of dropped attributes of {@code table} in pg_attribute (0 when the table does not exist). */
    public static int droppedColumns(Connection c, RelationName table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(?) AND attisdropped")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
    }

    /**
     * {@link #withExistingColumns}, but only as far as the table really lost columns to DROP COLUMN: a column
     * missing because it was renamed is left in, so the statement fails loudly instead of dropping a value the other
     * nodes keep under the new name.
     */
    public static RowChange adapt(RowChange rc, Set<String> existing, DroppedColumns dropped) throws SQLException {
        RowChange fitted = withExistingColumns(rc, existing);
        if (fitted == rc) {
            return rc;
        }
        int missing = rc.relation().columnCount() - fitted.relation().columnCount();
        int lost = dropped.of(rc.relation().name());
        if (lost < missing) {
            LOG.warn("change to {} names {} columns the table does not have, but only {} were dropped: not adapted "
                    + "(a renamed column?)", rc.relation().name(), missing, lost);
            return rc;
        }
        return fitted;
    }

    /**
     * {@code rc} without the columns its table no longer has. A change written without seeing a DROP COLUMN reaches
     * some nodes after it: the DDL's origin when the change was ordered before the DDL, every node when it was ordered
     * after (DROP COLUMN is not keyed, so such a change wins). Where it was applied before the DDL, the DDL dropped the
     * value, so dropping it here ends identical. Key columns are never dropped (a change missing its key must fail
     * loudly).
     *
     * @param existing the table's current column names; empty when the table is unknown (nothing is adapted)
     * @return {@code rc} itself when nothing is missing
     */
    public static RowChange withExistingColumns(RowChange rc, Set<String> existing) {
        Relation rel = rc.relation();
        if (existing.isEmpty() || rel.columns().stream().allMatch(col -> existing.contains(col.name()))) {
            return rc;
        }
        List<Integer> keep = new ArrayList<>();
        List<Column> cols = new ArrayList<>();
        for (int i = 0; i < rel.columnCount(); i++) {
            Column col = rel.columns().get(i);
            if (existing.contains(col.name()) || col.key()) {
                keep.add(i);
                cols.add(col);
            }
        }
        if (LOG.isDebugEnabled()) {
            LOG.debug("change to {} carries columns the table no longer has (dropped by a DDL statement it did not "
                    + "see): applied without them", rel.name());
        }
        return new RowChange(new Relation(rel.name(), rel.replicaIdentity(), cols), rc.op(), project(rc.newTuple(), keep),
                project(rc.oldTuple(), keep), rc.oldIsKeyOnly(), rc.keys());
    }

    private static Tuple project(Tuple t, List<Integer> keep) {
        if (t == null) {
            return null;
        }
        Tuple.Builder b = Tuple.builder(keep.size());
        for (int j = 0; j < keep.size(); j++) {
            int i = keep.get(j);
            switch (t.state(i)) {
                case NULL -> b.setNull(j);
                case UNCHANGED -> b.setUnchanged(j);
                case TEXT -> b.setText(j, t.text(i));
            }
        }
        return b.build();
    }
}
