package io.chorus.coordinator.apply;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The applier's local bookkeeping in schema {@code chorus}: the conflict log and the per-helper apply progress. Local,
 * not replicated: the capture ignores schema chorus, and helper transactions carry a replication origin anyway.
 *
 * <p>Why a progress table beside the replication origins: since PostgreSQL 16 an ABORT of a transaction that called
 * {@code pg_replication_origin_xact_setup} also advances the origin (for parallel apply of streamed transactions), so
 * a helper killed or failing at commit can leave its origin ahead of its data. The table row is updated in the same
 * transaction and is exactly as durable as the data; {@link ApplyProgress} reads W from it.
 *
 * <p>Stateless and thread-safe.
 */
public final class ApplySchema {
    /**
     * Idempotent DDL: the conflict log (one row per lost row change, identical on every node), the apply progress
     * (one row per helper origin: the highest GSN its committed transactions applied) and the key-value table the
     * helpers record the schema in with every DDL changeset they apply (as the SQL surface defines it, chorus-1.sql).
     */
    public static final String CONFLICTS_DDL = """
            CREATE SCHEMA IF NOT EXISTS chorus;
            CREATE TABLE IF NOT EXISTS chorus.conflicts (
                gsn bigint NOT NULL,
                change_index int NOT NULL,
                kind text NOT NULL,
                loser_origin text NOT NULL,
                winner_gsn bigint NOT NULL,
                winner_origin text NOT NULL,
                relation text NOT NULL,
                key text NOT NULL,
                cause_gsn bigint NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (gsn, change_index));
            CREATE TABLE IF NOT EXISTS chorus.apply_progress (
                origin text PRIMARY KEY,
                gsn bigint NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE IF NOT EXISTS chorus.meta (
                key text PRIMARY KEY,
                value text NOT NULL)""";

    static final String INSERT_CONFLICT = "INSERT INTO chorus.conflicts (gsn, change_index, kind, loser_origin, "
            + "winner_gsn, winner_origin, relation, key, cause_gsn) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";

    private ApplySchema() {
    }

    /**
     * Creates schema chorus and table chorus.conflicts when missing. Blocking; commits on its own when the connection
     * is in auto-commit mode, else leaves the commit to the caller.
     *
     * @throws SQLException when the DDL fails (e.g. 42501: the role may not create schema chorus)
     */
    public static void ensure(Connection connection) throws SQLException {
        try (Statement st = connection.createStatement()) {
            String before;
            try (ResultSet rs = st.executeQuery("SELECT coalesce(current_setting('chorus.replicate_ddl', true), '')")) {
                rs.next();
                before = rs.getString(1);
            }
            // this node's bookkeeping: neither replicated nor ordered with the group's DDL (chorus-3.sql)
            st.execute("SELECT set_config('chorus.replicate_ddl', 'off', false)");
            for (String ddl : CONFLICTS_DDL.split(";\n")) {
                st.execute(ddl);
            }
            try (PreparedStatement ps = connection.prepareStatement("SELECT set_config('chorus.replicate_ddl', ?, false)")) {
                ps.setString(1, before);
                ps.execute();
            }
        }
    }
}
