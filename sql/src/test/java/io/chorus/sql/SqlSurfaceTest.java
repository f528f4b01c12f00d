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

    @Test
    void syncWaitWaitsThroughAPartitionUpToItsTimeoutAndSaysWhy() throws SQLException {
        pg.createDatabase("partitioned");
        try (Connection c = pg.connect("partitioned"); Statement st = c.createStatement()) {
            SqlSurface.install(c);
            st.execute("UPDATE chorus.node_state SET state = 'NON_PRIMARY', heartbeat = clock_timestamp()");
            assertThatThrownBy(() -> query(c, "SELECT chorus.sync_wait('1 s')"))
                    .hasMessageContaining("not applied within 00:00:01")
                    .hasMessageContaining("not yet ordered (this node is NON_PRIMARY, outside the primary component");
            st.execute("UPDATE chorus.node_state SET state = 'FAILED', heartbeat = clock_timestamp()");
            assertThatThrownBy(() -> query(c, "SELECT chorus.sync_wait('1 s')"))
                    .hasMessageContaining("database partitioned is FAILED, not replicating");
        }
    }

    @Test
    void forceBootstrapRaisesThePublishedAssessmentAndQueuesOnlyOnceConfirmed() throws SQLException {
        pg.createDatabase("forced");
        try (Connection c = pg.connect("forced"); Statement st = c.createStatement()) {
            SqlSurface.install(c);
            assertThatThrownBy(() -> query(c, "SELECT chorus.force_bootstrap()"))
                    .hasMessageContaining("no Chorus sidecar is serving database forced");
            st.execute("UPDATE chorus.node_state SET state = 'JOINING', phase = 'join', heartbeat = clock_timestamp()");
            assertThatThrownBy(() -> query(c, "SELECT chorus.force_bootstrap(confirm => true)"))
                    .hasMessageContaining("database forced is JOINING (join) and has not joined a group");
            // as the sidecar publishes it (BootstrapAssessment): n1 alone, n2 ahead and gone, n3 never seen
            st.execute("UPDATE chorus.node_state SET state = 'NON_PRIMARY', group_name = 'g', bootstrap = '{"
                    + "\"node\":\"n1\",\"primary\":false,\"assessment\":\"member n1 (W 7, log GSN 8) ...\","
                    + "\"refused\":null,\"unconfirmed\":\"member n1 ... Nothing was changed\",\"runOn\":null,"
                    + "\"members\":[{\"node\":\"n2\",\"self\":false,\"voter\":true,\"present\":false,"
                    + "\"watermark\":9,\"logGsn\":10,\"aheadBy\":2,\"fate\":\"missing\"},"
                    + "{\"node\":\"n1\",\"self\":true,\"voter\":true,\"present\":true,\"watermark\":7,"
                    + "\"logGsn\":8,\"aheadBy\":0,\"fate\":\"becomes the only voter\"}]}'");
            assertThat(query(c, "SELECT string_agg(node || ':' || is_self || ':' || coalesce(log_gsn::text, '-') || ':' "
                    + "|| ahead_by || ':' || fate, ', ') FROM chorus.bootstrap_plan()"))
                    .isEqualTo("n1:true:8:0:becomes the only voter, n2:false:10:2:missing");
            try {
                query(c, "SELECT chorus.force_bootstrap()");
                throw new AssertionError("an unconfirmed forced bootstrap must be refused");
            } catch (SQLException e) {
                assertThat(e.getSQLState()).isEqualTo("55000");
                assertThat(e.getMessage()).contains("member n1 ... Nothing was changed")
                        .contains("SELECT chorus.force_bootstrap(confirm => true)");
            }
            assertThat(query(c, "SELECT count(*) FROM chorus.requests")).as("nothing queued").isEqualTo("0");
            assertThat(query(c, "SELECT chorus.force_bootstrap(confirm => true)"))
                    .contains("forced bootstrap of group g from node n1 queued as request");
            assertThat(query(c, "SELECT kind || ' ' || group_name || ' ' || state FROM chorus.requests"))
                    .isEqualTo("force_bootstrap g queued");
            st.execute("UPDATE chorus.node_state SET bootstrap = bootstrap || '{\"refused\":\"refusing: n2 is "
                    + "present and ahead\",\"runOn\":\"n2\"}'");
            assertThatThrownBy(() -> query(c, "SELECT chorus.force_bootstrap(confirm => true)"))
                    .hasMessageContaining("refusing: n2 is present and ahead")
                    .hasMessageContaining("run SELECT chorus.force_bootstrap() on node n2");
        }
    }

    private static String query(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
