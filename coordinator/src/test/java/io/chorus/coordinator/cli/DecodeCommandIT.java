package io.chorus.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chorus.testkit.PgServer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code chorus decode} against a real server: JSON lines, unchanged-TOAST marker, the missing-slot error. */
class DecodeCommandIT {

    @Test
    void printsOneJsonLinePerChangesetFromACreatedSlot() throws Exception {
        try (PgServer pg = PgServer.start("decode")) {
            pg.createDatabase("app");
            exec(pg, "CREATE TABLE t(id int PRIMARY KEY, big text, n int)",
                    "INSERT INTO t SELECT 1, string_agg(md5(i::text), ''), 1 FROM generate_series(1, 4096) i");
            StringWriter out = new StringWriter();
            CommandLine cli = ChorusCli.commandLine();
            cli.setOut(new PrintWriter(out));
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                Future<Integer> code = ex.submit(() -> cli.execute("decode", "--url", pg.jdbcUrl("app"), "--slot", "dec",
                        "--create-slot", "--node", "n1", "--limit", "2"));
                awaitActiveSlot(pg, "dec");
                exec(pg, "UPDATE t SET n = 2 WHERE id = 1", "BEGIN; INSERT INTO t VALUES (2, NULL, 5); DELETE FROM t WHERE id = 2; COMMIT");
                assertThat(code.get(60, TimeUnit.SECONDS)).isZero();
            } finally {
                ex.shutdownNow();
            }
            String[] lines = out.toString().strip().split("\n");
            assertThat(lines).hasSize(2);
            ObjectMapper json = new ObjectMapper();
            JsonNode update = json.readTree(lines[0]);
            assertThat(update.get("gtid").asText()).startsWith("n1:");
            assertThat(update.get("deps").asLong()).isZero();
            JsonNode u = update.get("changes").get(0);
            assertThat(u.get("relation").asText()).isEqualTo("public.t");
            assertThat(u.get("op").asText()).isEqualTo("UPDATE");
            assertThat(u.get("key").toString()).isEqualTo("{\"id\":\"1\"}");
            assertThat(u.get("columns").toString()).isEqualTo("{\"id\":\"1\",\"big\":{\"unchanged_toast\":true},\"n\":\"2\"}");
            JsonNode tx = json.readTree(lines[1]);
            assertThat(tx.get("changes")).hasSize(2);
            assertThat(tx.get("changes").get(0).get("columns").toString()).isEqualTo("{\"id\":\"2\",\"big\":null,\"n\":\"5\"}");
            assertThat(tx.get("changes").get(1).get("op").asText()).isEqualTo("DELETE");
            assertThat(tx.get("changes").get(1).get("old").toString()).isEqualTo("{\"id\":\"2\"}");
        }
    }

    @Test
    void missingSlotNeedsCreateSlotAndATemporarySlotLeavesNoSlotBehind() throws Exception {
        try (PgServer pg = PgServer.start("decode-temp")) {
            pg.createDatabase("app");
            StringWriter err = new StringWriter();
            CommandLine cli = ChorusCli.commandLine();
            cli.setErr(new PrintWriter(err));
            assertThat(cli.execute("decode", "--url", pg.jdbcUrl("app"), "--slot", "nope")).isEqualTo(1);
            assertThat(err.toString()).contains("replication slot nope does not exist in database 'app'").contains("--create-slot");

            exec(pg, "CREATE TABLE t(id int PRIMARY KEY)");
            StringWriter out = new StringWriter();
            CommandLine temp = ChorusCli.commandLine();
            temp.setOut(new PrintWriter(out));
            ExecutorService ex = Executors.newSingleThreadExecutor();
            try {
                Future<Integer> code = ex.submit(() -> temp.execute("decode", "--url", pg.jdbcUrl("app"), "--limit", "1"));
                awaitActiveSlot(pg, "chorus_decode_" + ProcessHandle.current().pid());
                exec(pg, "INSERT INTO t VALUES (42)");
                assertThat(code.get(60, TimeUnit.SECONDS)).isZero();
            } finally {
                ex.shutdownNow();
            }
            assertThat(out.toString()).contains("\"columns\":{\"id\":\"42\"}");
            try (Connection c = pg.connect("app"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_replication_slots")) {
                rs.next();
                assertThat(rs.getInt(1)).as("the temporary slot is gone with its connection").isZero();
            }
        }
    }

    @Test
    void interruptClosesTheStreamAndConfirmsWhatWasPrinted() throws Exception {
        try (PgServer pg = PgServer.start("decode-int")) {
            pg.createDatabase("app");
            exec(pg, "CREATE TABLE t(id int PRIMARY KEY)");
            Path out = Files.createTempFile("decode-", ".jsonl");
            String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process p = new ProcessBuilder(javaBin, "-cp", System.getProperty("java.class.path"), ChorusCli.class.getName(),
                    "decode", "--url", pg.jdbcUrl("app"), "--slot", "cli", "--create-slot")
                    .redirectOutput(out.toFile()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            try {
                awaitActiveSlot(pg, "cli");
                exec(pg, "INSERT INTO t VALUES (7)");
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (Files.readString(out).isEmpty()) {
                    assertThat(System.nanoTime()).as("a JSON line within 60 s").isLessThan(deadline);
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // poll interval of the condition
                }
            } finally {
                p.destroy(); // SIGTERM: the same shutdown path as Ctrl-C
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("decode exits on SIGTERM").isTrue();
            }
            JsonNode line = new ObjectMapper().readTree(Files.readString(out).strip());
            String printed = line.get("commit_lsn").asText();
            try (Connection c = pg.connect("app"); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT active, confirmed_flush_lsn >= '" + printed + "'::pg_lsn"
                         + " FROM pg_replication_slots WHERE slot_name = 'cli'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getBoolean(1)).as("stream closed").isFalse();
                assertThat(rs.getBoolean(2)).as("confirmed past the printed changeset " + printed).isTrue();
            }
        }
    }

    private static void exec(PgServer pg, String... sql) throws SQLException {
        try (Connection c = pg.connect("app"); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    private static void awaitActiveSlot(PgServer pg, String slot) throws SQLException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Connection c = pg.connect("app"); Statement st = c.createStatement()) {
            while (true) {
                try (ResultSet rs = st.executeQuery("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
                    if (rs.next() && rs.getBoolean(1)) {
                        return;
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("slot " + slot + " was not streaming within 60 s");
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // poll interval of the condition
            }
        }
    }
}
