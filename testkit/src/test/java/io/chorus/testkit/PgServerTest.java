package io.chorus.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class PgServerTest {

    @Test
    void startsTwoServersConfiguredForLogicalReplicationAndCleansUp() throws SQLException {
        Path dir;
        try (PgServer a = PgServer.start("a"); PgServer b = PgServer.start("b")) {
            assertThat(a.port()).isNotEqualTo(b.port());
            for (PgServer s : new PgServer[] {a, b}) {
                assertThat(show(s, "wal_level")).isEqualTo("logical");
                assertThat(show(s, "track_commit_timestamp")).isEqualTo("on");
                assertThat(Integer.parseInt(show(s, "max_replication_slots"))).isGreaterThanOrEqualTo(16);
                assertThat(show(s, "server_version_num")).startsWith(Integer.toString(PgBinaries.defaultMajor()));
            }
            dir = a.dataDir();
            assertThat(dir).exists();
        }
        assertThat(Files.exists(dir)).isFalse();
    }

    @Test
    void restartKeepsDataAndPort() throws SQLException {
        try (PgServer s = PgServer.start("restart")) {
            s.createDatabase("app");
            try (Connection c = s.connect("app"); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE t(id int primary key); INSERT INTO t VALUES (1),(2)");
            }
            int port = s.port();
            s.restart(PgServer.StopMode.IMMEDIATE);
            assertThat(s.port()).isEqualTo(port);
            try (Connection c = s.connect("app"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM t")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
            s.stop(PgServer.StopMode.FAST);
            assertThat(s.isRunning()).isFalse();
        }
    }

    private static String show(PgServer s, String setting) throws SQLException {
        try (Connection c = s.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW " + setting)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
