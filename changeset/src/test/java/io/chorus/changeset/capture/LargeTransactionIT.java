package io.chorus.changeset.capture;

import static io.chorus.changeset.capture.CaptureTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.testkit.PgServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A 200 MB transaction decoded by a JVM whose heap is capped at 256 MB: the spill buffer carries it. */
@Tag("slow")
class LargeTransactionIT {
    private static final int ROWS = 1_000_000;

    @Test
    void twoHundredMegabyteTransactionDecodesInA256MegabyteHeap() throws Exception {
        try (PgServer pg = PgServer.start("large")) {
            pg.createDatabase("big");
            exec(pg, "big", "CREATE TABLE t(id bigint PRIMARY KEY, v text)",
                    "CREATE PUBLICATION chorus FOR ALL TABLES WITH (publish_via_partition_root = true)",
                    "SELECT pg_create_logical_replication_slot('big', 'pgoutput')",
                    "INSERT INTO t SELECT i, repeat(md5(i::text), 7) || lpad(i::text, 8, '0') FROM generate_series(1, " + ROWS + ") i");
            Path work = Files.createTempDirectory("large-");
            Path log = work.resolve("child.log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            Process child = new ProcessBuilder(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                    LargeTransactionChild.class.getName(), pg.jdbcUrl("big"), "big", "big", work.toString(), Integer.toString(ROWS)))
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            boolean finished = child.waitFor(20, TimeUnit.MINUTES);
            if (!finished) {
                child.destroyForcibly();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            System.out.println("child JVM (-Xmx256m) output:\n" + out);
            assertThat(finished).as("child finished within 20 min").isTrue();
            assertThat(child.exitValue()).as("child exit code; output:\n" + out).isZero();
            long expectedText = (long) ROWS * (32 * 7 + 8);
            assertThat(out).contains("rows=" + ROWS + " textBytes=" + expectedText + " inOrder=true");
            assertThat(expectedText).isGreaterThan(200L << 20);
        }
    }
}
