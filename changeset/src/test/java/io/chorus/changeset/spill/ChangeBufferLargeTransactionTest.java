package io.chorus.changeset.spill;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/** A ~200 MB transaction through a buffer in a child JVM limited to a 256 MB heap. */
@Tag("slow")
class ChangeBufferLargeTransactionTest {
    private static final long TARGET_BYTES = 200L << 20;
    private static final long THRESHOLD = 32L << 20;
    private static final long TIMEOUT_MINUTES = 10;

    @TempDir
    Path dir;

    @Test
    void twoHundredMegabytesFitThroughA256MegabyteHeap() throws IOException, InterruptedException {
        long seed = Long.getLong("seed", System.nanoTime());
        System.out.println("ChangeBufferLargeTransactionTest seed=" + seed + " (replay with -Dseed=" + seed + ")");
        Path spillDir = Files.createDirectories(dir.resolve("spill"));
        Path log = dir.resolve("child.log");
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), SpillMain.class.getName(),
                spillDir.toString(), Long.toString(seed), Long.toString(TARGET_BYTES), Long.toString(THRESHOLD))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!child.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
            child.destroyForcibly();
            fail("child JVM spilling " + TARGET_BYTES + " bytes did not finish within " + TIMEOUT_MINUTES
                    + " minutes; its output: " + Files.readString(log));
        }
        String output = Files.readString(log);
        System.out.println(output);
        assertThat(child.exitValue()).as("child exit code; output: %s", output).isZero();
        assertThat(output).containsPattern("verified (\\d+) of \\1 changes").contains("spilled=true")
                .contains("files=1").contains("files after close=0");
    }
}
