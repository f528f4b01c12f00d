package io.chorus.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SqlSurfaceTest {
    private static PgServer pg;

    @BeforeAll
    static void start() throws SQLException {
        pg = PgServer.start("sql");
        pg.createDatabase("app");
    }

    @AfterAll
    static void stop() {
        pg.close();
    }

    @Test
    void installIsIdempotentAndVersioned() throws SQLException {
        try (Connection c = pg.connect("app")) {
            int before = SqlSurface.install(c);
            assertThat(SqlSurface.install(c)).isEqualTo(SqlSurface.VERSION);
            assertThat(before).isIn(0, SqlSurface.VERSION);
            assertThat(SqlSurface.installedVersion(c)).isEqualTo(SqlSurface.VERSION);
            assertThat(query(c, "SELECT state FROM chorus.status()")).isEqualTo("OFFLINE");
        }
    }

    @Test
    void enableQueuesARequestAndWarnsWhenNoSidecarRuns() throws SQLException {
        try (Connection c = pg.connect("app")) {
            SqlSurface.install(c);
            String answer = query(c, "SELECT chorus.enable('g1')");
            assertThat(answer).contains("enable of group g1 queued as request")
                    .contains("no Chorus sidecar is serving database app").contains("./chorus run");
            assertThat(query(c, "SELECT kind || ' ' || group_name || ' ' || state FROM chorus.requests ORDER BY id DESC LIMIT 1"))
                    .isEqualTo("enable g1 queued");
        }
    }

    @Test
    void waitReadyGivesUpWithinItsTimeoutNamingTheMissingSidecar() throws SQLException {
        try (Connection c = pg.connect("app")) {
            SqlSurface.install(c);
            long t0 = System.nanoTime();
            assertThatThrownBy(() -> query(c, "SELECT chorus.wait_ready('ONLINE', '2 s')"))
                    .hasMessageContaining("no Chorus sidecar is serving database app");
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
            assertThatThrownBy(() -> query(c, "SELECT chorus.sync_wait('1 s')"))
                    .hasMessageContaining("no Chorus sidecar is serving database app");
        }
    }

    @Test
    void enableRefusesTablesWithoutPrimaryKeyNamingThem() throws SQLException {
        pg.createDatabase("keyless");
        try (Connection c = pg.connect("keyless"); Statement st = c.createStatement()) {
            SqlSurface.install(c);
            st.execute("CREATE TABLE ok(id int primary key); CREATE TABLE logs(msg text); CREATE SCHEMA s2; CREATE TABLE s2.\"Events\"(x int)");
            assertThatThrownBy(() -> query(c, "SELECT chorus.enable('g1')"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("tables without a primary key cannot be replicated: public.logs, s2.\"Events\"")
                    .hasMessageContaining("ADD PRIMARY KEY");
            assertThat(query(c, "SELECT count(*) FROM chorus.requests")).isEqualTo("0");
        }
    }

    @Test
    void enableRejectsBadArgumentsWithTheFix() throws SQLException {
        try (Connection c = pg.connect("app")) {
            SqlSurface.install(c);
            assertThatThrownBy(() -> query(c, "SELECT chorus.enable('Bad Name')"))
                    .hasMessageContaining("invalid group name 'Bad Name'").hasMessageContaining("a-z, 0-9");
            assertThatThrownBy(() -> query(c, "SELECT chorus.enable('g', false, 'eventual')"))
                    .hasMessageContaining("mode must be async or sync");
        }
    }

    @Test
    void enableInSyncModeNamesTheStandbySettingItNeeds() throws SQLException {
        try (Connection c = pg.connect("app")) {
            SqlSurface.install(c);
            assertThatThrownBy(() -> query(c, "SELECT chorus.enable('g', mode => 'sync')"))
                    .hasMessageContaining("mode sync is not possible yet in database app")
                    .hasMessageContaining("application_name chorus_capture_chorus_app")
                    .hasMessageContaining("ALTER SYSTEM SET synchronous_standby_names = 'chorus_capture_chorus_app'; SELECT pg_reload_conf();");
            assertThat(query(c, "SELECT count(*) FROM chorus.requests WHERE options->>'mode' = 'sync'"))
                    .as("nothing queued").isEqualTo("0");
        }
    }

    @Test
    void enableExplainsWalLevelWithTheExactFix() throws SQLException {
        try (PgServer replica = PgServer.builder().name("walrep").setting("wal_level", "replica").embedded().start();
             Connection c = replica.connect()) {
            SqlSurface.install(c);
            assertThatThrownBy(() -> query(c, "SELECT chorus.enable('g1')"))
                    .hasMessageContaining("wal_level is replica")
                    .hasMessageContaining("ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL");
        }
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
