package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
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

    /**
     * The retention check reads the log; RAFT appends to it on its own thread, and the file log reads through the
     * buffer it appends with. Checks as often as they come while records stream in must leave every entry intact: a
     * corrupt one could never be sent again to a member that needs it, and a restart cut the log before it.
     */
    @Test
    @Timeout(180)
    void retentionChecksWhileTheLogAppendsLeaveEveryEntryIntact() throws Exception {
        java.util.Map<NodeId, Path> logs = new java.util.HashMap<>();
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 3, b -> b)) {
            c.startAll();
            c.awaitPrimary(WAIT);
            java.util.concurrent.atomic.AtomicBoolean appending = new java.util.concurrent.atomic.AtomicBoolean(true);
            Thread checks = new Thread(() -> {
                while (appending.get()) {
                    c.groups.values().forEach(g -> g.retention().check());
                    Thread.onSpinWait();
                }
            }, "retention-checks");
            checks.start();
            try {
                appendMany(c.group(1), "a", 6_000);
            } finally {
                appending.set(false);
                checks.join(10_000);
            }
            c.awaitAll(6_000, WAIT);
            for (NodeId id : c.groups.keySet()) {
                logs.put(id, logDir(dir.resolve(id.value())));
            }
        }
        for (java.util.Map.Entry<NodeId, Path> e : logs.entrySet()) {
            org.jgroups.protocols.raft.FileBasedLog log = new org.jgroups.protocols.raft.FileBasedLog();
            log.init(e.getValue().toString(), new java.util.HashMap<>());
            try {
                List<Long> unreadable = new ArrayList<>();
                for (long i = Math.max(1, log.firstAppended()); i <= log.lastAppended(); i++) {
                    if (log.get(i) == null) {
                        unreadable.add(i);
                    }
                }
                assertThat(unreadable).as("unreadable entries in the log of " + e.getKey()).isEmpty();
                assertThat(log.commitIndex()).as("entries of " + e.getKey() + " committed and on file")
                        .isLessThanOrEqualTo(log.lastAppended());
                assertThat(log.lastAppended()).as(e.getKey() + "'s log (entries carry batches of records)")
                        .isPositive();
            } finally {
                log.close();
            }
        }
    }

    private static Path logDir(Path member) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(member)) {
            return files.filter(p -> p.getFileName().toString().equals("entries.raft")).map(Path::getParent)
                    .findFirst().orElseThrow(() -> new AssertionError("no log under " + member));
        }
    }
}
