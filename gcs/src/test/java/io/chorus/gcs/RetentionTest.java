package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Log retention by size and age; a member that falls behind the compaction point is told to do a full transfer. */
@Tag("slow")
class RetentionTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    static void appendMany(Group g, String tag, int n) throws Exception {
        List<CompletableFuture<Gsn>> acks = new ArrayList<>();
        byte[] pad = new byte[180];
        Arrays.fill(pad, (byte) 'x');
        for (int i = 1; i <= n; i++) {
            acks.add(g.append(0, (tag + "/" + i + "/" + new String(pad)).getBytes()));
        }
        for (CompletableFuture<Gsn> f : acks) {
            f.get(60, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(180)
    void memberBehindTheCompactedLogNeedsAFullTransferThenDeliversTheRest() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 3, b -> b.retentionBytes(64 * 1024))) {
            c.startAll();
            c.awaitPrimary(WAIT);
            appendMany(c.group(1), "a", 200);
            c.awaitAll(200, WAIT);
            c.stop(TestCluster.id(3));
            byte[] def = "a definition n3 never saw in a record".getBytes();
            c.group(1).append(0, "b/0".getBytes(), java.util.Map.of(77L, def)).get(60, TimeUnit.SECONDS);
            appendMany(c.group(1), "b", 2_999);
            c.awaitAll(3_200, WAIT);
            Conditions.await("the leader compacted its log", WAIT,
                    () -> c.group(1).firstAvailable().value() > 201 && c.group(2).firstAvailable().value() > 201,
                    c::describe);

            c.start(TestCluster.id(3), Gsn.of(200));
            RecordingListener l3 = c.listener(3);
            l3.await(() -> !l3.transfers().isEmpty(), WAIT, "a full-transfer notice on n3");
            assertThat(l3.transfers().get(0)).contains("records 201..").contains("are no longer in the log")
                    .contains("after a full transfer");
            appendMany(c.group(2), "c", 100);
            c.awaitAll(3_300, WAIT);
            assertThat(c.group(3).catalog().definition(77L)).as("n3's catalog came with the snapshot").isEqualTo(def);
            assertThat(c.group(2).catalog().definition(77L)).isEqualTo(def);
            List<RecordingListener.Delivery> all = c.listener(1).deliveries();
            List<RecordingListener.Delivery> after = l3.deliveries();
            assertThat(after).isNotEmpty();
            long first = after.get(0).gsn();
            assertThat(first).as("n3 resumes right after the snapshot point").isGreaterThan(201);
            assertThat(after).isEqualTo(all.subList((int) first - 1, all.size()));
        }
    }

    @Test
    @Timeout(180)
    void logIsCompactedByAge() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 3, b -> b.retentionAge(Duration.ofSeconds(1)))) {
            c.startAll();
            c.awaitPrimary(WAIT);
            appendMany(c.group(1), "a", 100);
            c.awaitAll(100, WAIT);
            Conditions.await("every member compacted entries older than 1 s", WAIT,
                    () -> c.groups.values().stream().allMatch(g -> g.firstAvailable().value() > 1), c::describe);
            appendMany(c.group(2), "b", 10);
            c.awaitAll(110, WAIT);
            assertThat(c.listener(3).deliveries()).isEqualTo(c.listener(1).deliveries()).hasSize(110);
        }
    }
}
