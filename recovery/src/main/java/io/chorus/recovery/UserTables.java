package io.chorus.recovery;

import io.chorus.changeset.RelationName;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** The replicated tables of a database: permanent ordinary tables outside schema chorus and the system schemas. */
final class UserTables {
    static final String WHERE_USER = "c.relkind = 'r' AND c.relpersistence = 'p' AND NOT c.relispartition "
            + "AND n.nspname NOT IN ('chorus', 'pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";

    private UserTables() {
    }

    /** Every replicated table, ordered by schema and name. Blocking; runs in the caller's transaction. */
    static List<RelationName> list(Connection c) throws SQLException {
        List<RelationName> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                        + WHERE_USER + " ORDER BY 1, 2")) {
            while (rs.next()) {
                out.add(RelationName.of(rs.getString(1), rs.getString(2)));
            }
        }
        return out;
    }
}
