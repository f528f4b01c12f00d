package io.chorus.schema;

import io.chorus.testkit.PgServer;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;

/** One PostgreSQL server per test class, a fresh database per test. */
final class SchemaTestSupport {
    private static final AtomicInteger DATABASES = new AtomicInteger();

    private SchemaTestSupport() {
    }

    static Connection freshDatabase(PgServer pg, String prefix, String... ddl) throws SQLException {
        String db = pg.createDatabase(prefix + DATABASES.incrementAndGet());
        Connection c = pg.connect(db);
        exec(c, ddl);
        return c;
    }

    static void exec(Connection c, String... sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    static String replicaIdentity(Connection c, String table) throws SQLException {
        try (Statement st = c.createStatement(); var rs = st.executeQuery(
                "SELECT relreplident FROM pg_class WHERE oid = '" + table + "'::regclass")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
