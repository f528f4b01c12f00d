package io.chorus.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Column;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A helper's side of DDL against a real server: run as the origin ran it, adapt old-shape changes only when safe. */
class DdlRunnerIT {
    private static PgServer pg;

    @BeforeAll
    static void start() throws SQLException {
        pg = PgServer.start("ddlrun");
        pg.createDatabase("app");
        try (Connection c = pg.connect("app"); Statement st = c.createStatement()) {
            st.execute("CREATE ROLE app_owner; CREATE SCHEMA s AUTHORIZATION app_owner; "
                    + "CREATE TABLE t (id int PRIMARY KEY, a text, b text)");
        }
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    @Test
    void aFailingStatementNamesItselfTheServersErrorAndTheFixAndKeepsItsSqlState() throws SQLException {
        try (Connection c = pg.connect("app")) {
            c.setAutoCommit(false);
            DdlMessage m = new DdlMessage(Optional.of("ALTER TABLE no_such_table ADD COLUMN x int"), "public",
                    "postgres", "ALTER TABLE", List.of(RelationName.of("public", "no_such_table")), false);
            assertThatThrownBy(() -> DdlRunner.run(c, m)).isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("42P01");
                assertThat(e.getMessage()).contains("replicated ALTER TABLE statement failed on this node",
                        "ALTER TABLE no_such_table ADD COLUMN x int", "[42P01]", "no_such_table",
                        "never skipped", "SET chorus.replicate_ddl = off, then restart the sidecar");
            });
            c.rollback();
        }
    }

    @Test
    void runsWithTheOriginsPathAndRoleInsideTheTransactionThenRestoresThem() throws SQLException {
        try (Connection c = pg.connect("app")) {
            c.setAutoCommit(false);
            DdlMessage m = new DdlMessage(Optional.of("CREATE TABLE x (id int PRIMARY KEY); CREATE INDEX xi ON x (id)"),
                    "s, public", "app_owner", "CREATE TABLE", List.of(), true);
            assertThat(DdlRunner.run(c, m)).isTrue();
            assertThat(one(c, "SELECT current_user || ' ' || current_setting('search_path')")).isEqualTo("postgres \"$user\", public");
            c.commit();
            assertThat(one(c, "SELECT relowner::regrole::text FROM pg_class WHERE oid = 's.x'::regclass")).isEqualTo("app_owner");
            DdlMessage onlyRelations = new DdlMessage(Optional.empty(), "public", "postgres", "X", List.of(), false);
            assertThat(DdlRunner.run(c, onlyRelations)).isFalse();
            DdlMessage concurrently = new DdlMessage(Optional.of("CREATE INDEX CONCURRENTLY ti ON t (a)"), "public",
                    "nobody_here", "CREATE INDEX", List.of(), false);
            assertThat(DdlRunner.run(c, concurrently)).as("runs inside the transaction, as the helper's role").isTrue();
            c.commit();
            assertThat(one(c, "SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'ti'::regclass")).isEqualTo("true");
        }
    }

    @Test
    void oldShapeChangesLoseDroppedColumnsButNotRenamedOnes() throws SQLException {
        try (Connection c = pg.connect("app"); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE d (id int PRIMARY KEY, a text, b text)");
            Relation rel = new Relation(RelationName.of("public", "d"), 'f', List.of(new Column("id", true, 23, -1),
                    new Column("a", false, 25, -1), new Column("b", false, 25, -1)));
            RowChange rc = new RowChange(rel, Op.INSERT, Tuple.ofTexts("1", "x", "y"), null, false, List.of());
            st.execute("ALTER TABLE d DROP COLUMN b");
            RowChange dropped = DdlRunner.adapt(rc, Set.of("id", "a"), t -> DdlRunner.droppedColumns(c, t));
            assertThat(dropped.relation().columns()).extracting(Column::name).containsExactly("id", "a");
            st.execute("ALTER TABLE d RENAME COLUMN a TO a2");
            assertThat(DdlRunner.adapt(rc, Set.of("id", "a2"), t -> DdlRunner.droppedColumns(c, t))).as("a was renamed, not dropped: left to fail")
                    .isSameAs(rc);
        }
    }

    private static String one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
