package io.chorus.sql;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Installs and upgrades the {@code chorus} schema (the SQL control surface) in a database. Idempotent: each version's
 * script is written to run again safely; the installed version is kept in {@code chorus.meta}. Not thread-safe per
 * connection; runs in one transaction and takes an advisory lock so that two sidecars never install at once.
 */
public final class SqlSurface {
    /** The version this build installs. */
    public static final int VERSION = 4;
    private static final long INSTALL_LOCK = 0x63686f7275730001L;

    private SqlSurface() {
    }

    /** Installs or upgrades; returns the version that was installed before (0 when none). */
    public static int install(Connection c) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
            st.execute("SELECT pg_advisory_xact_lock(" + INSTALL_LOCK + ")");
            // the surface's own objects are this node's: neither replicated nor ordered with the group's DDL
            st.execute("SELECT set_config('chorus.replicate_ddl', 'off', true)");
            int before = installedVersion(c);
            if (before > VERSION) {
                throw new SQLException("database " + c.getCatalog() + " has Chorus SQL surface version " + before
                        + " but this sidecar installs version " + VERSION + "; upgrade the sidecar", "55000");
            }
            for (int v = Math.max(1, before); v <= VERSION; v++) {
                st.execute(script(v));
            }
            c.commit();
            return before;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    /** The installed version, 0 when the schema is absent. */
    public static int installedVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT to_regclass('chorus.meta') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return 0;
            }
        }
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT value FROM chorus.meta WHERE key = 'schema_version'")) {
            return rs.next() ? Integer.parseInt(rs.getString(1)) : 0;
        }
    }

    static String script(int version) {
        String name = "chorus-" + version + ".sql";
        try (InputStream in = SqlSurface.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("SQL script " + name + " is missing from the sql module");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
