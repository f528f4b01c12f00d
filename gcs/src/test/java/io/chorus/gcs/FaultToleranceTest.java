package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Leader crash mid-stream and a 3|2 partition, in-JVM and over TCP loopback, faults injected inside the stack. */
@Tag("slow")
class FaultToleranceTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Transport.class)
    @Timeout(240)
    void leaderCrashMidStreamLosesAndDuplicatesNothing(Transport transport) throws Exception {
        try (TestCluster c = new TestCluster(dir, transport, 5, b -> b.appendTimeout(Duration.ofSeconds(60)))) {
            c.startAll();
            c.awaitPrimary(WAIT);
            List<Writer> writers = new ArrayList<>();
            for (Group g : c.groups.values()) {
                writers.add(new Writer(g, 50));
            }
            c.awaitAll(2_000, WAIT);
            NodeId leader = c.group(1).membership().leader().orElseThrow();
            Group leaderGroup = c.groups.remove(leader);
            leaderGroup.faults().crash();
            long crashedAt = c.listeners.get(leader).lastGsn();
            System.out.println("crashed leader " + leader + " at GSN " + crashedAt);
            Conditions.await("a new leader", WAIT, () -> c.groups.values().stream().allMatch(
                    g -> g.isPrimary() && !g.membership().leader().equals(java.util.Optional.of(leader))),
                    c::describe);
            long after = c.groups.keySet().stream().mapToLong(id -> c.listeners.get(id).lastGsn()).max().orElse(0);
            c.awaitAll(after + 2_000, WAIT);
            for (Writer w : writers) {
                w.close();
            }
            long end = c.groups.values().stream().mapToLong(g -> g.appliedGsn().value()).max().orElse(0);
            c.awaitAll(end, WAIT);
            // everything a survivor appended is acked by now, so the final position is stable
            List<List<RecordingListener.Delivery>> all = new ArrayList<>();
            c.groups.keySet().forEach(id -> all.add(c.listeners.get(id).deliveries()));
            Checks.samePrefix(all);
            List<RecordingListener.Delivery> seq = all.get(0);
            Checks.gapFreeAndDuplicateFree(seq, 1);
            Set<String> delivered = new HashSet<>();
            seq.forEach(d -> delivered.add(d.origin() + "/" + d.seq()));
            List<String> missing = new ArrayList<>();
            for (int i = 0; i < writers.size(); i++) {
                String origin = c.members.get(i).id().value();
                writers.get(i).acked().stream().map(s -> origin + "/" + s).filter(a -> !delivered.contains(a))
                        .forEach(missing::add);
            }
            assertThat(missing).as("acknowledged appends not delivered").isEmpty();
            assertThat(c.listeners.get(leader).deliveries()).isEqualTo(seq.subList(0,
                    c.listeners.get(leader).size()));
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    @Timeout(240)
    void partitionThreeTwoThenHeal(Transport transport) throws Exception {
        try (TestCluster c = new TestCluster(dir, transport, 5, b -> b.appendTimeout(Duration.ofSeconds(90)))) {
            c.startAll();
            c.awaitPrimary(WAIT);
            for (int i = 1; i <= 10; i++) {
                c.group(1 + i % 5).append(0, Writer.payload("pre", i)).get(30, TimeUnit.SECONDS);
            }
            c.awaitAll(10, WAIT);
            List<NodeId> major = List.of(TestCluster.id(1), TestCluster.id(2), TestCluster.id(3));
            List<NodeId> minor = List.of(TestCluster.id(4), TestCluster.id(5));
            major.forEach(id -> c.groups.get(id).faults().cut(minor));
            minor.forEach(id -> c.groups.get(id).faults().cut(major));
            Conditions.await("3-side primary, 2-side NON_PRIMARY", WAIT,
                    () -> major.stream().allMatch(id -> c.groups.get(id).isPrimary())
                            && minor.stream().noneMatch(id -> c.groups.get(id).isPrimary()), c::describe);
            assertThat(c.group(4).membership().state()).isEqualTo("NON_PRIMARY");

            List<CompletableFuture<Gsn>> waiting = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                waiting.add(c.group(4).append(i, Writer.payload("n4", i)));
                waiting.add(c.group(5).append(i, Writer.payload("n5", i)));
            }
            for (int i = 1; i <= 20; i++) {
                c.group(1 + i % 3).append(0, Writer.payload("major", i)).get(30, TimeUnit.SECONDS);
            }
            c.awaitAll(10, WAIT);
            Conditions.await("3-side at GSN 30", WAIT, () -> c.listener(1).lastGsn() >= 30, c::describe);
            assertThat(c.listener(4).lastGsn()).as("2-side delivers nothing new").isEqualTo(10);
            assertThat(c.listener(5).lastGsn()).as("2-side delivers nothing new").isEqualTo(10);
            assertThat(waiting).as("2-side appends wait").noneMatch(CompletableFuture::isDone);

            c.groups.values().forEach(g -> g.faults().heal());
            for (CompletableFuture<Gsn> f : waiting) {
                assertThat(f.get(90, TimeUnit.SECONDS).value()).isGreaterThan(30);
            }
            c.awaitAll(40, WAIT);
            List<RecordingListener.Delivery> seq = c.listener(1).deliveries();
            assertThat(seq).hasSize(40);
            Checks.gapFreeAndDuplicateFree(seq, 1);
            for (int m = 2; m <= 5; m++) {
                assertThat(c.listener(m).deliveries()).as("n%d identical", m).isEqualTo(seq);
            }
            assertThat(seq.subList(10, 30)).allMatch(d -> d.payload().startsWith("major/"));
            assertThat(seq.subList(30, 40)).allMatch(d -> d.origin().equals("n4") || d.origin().equals("n5"));
            assertThat(Map.of("memberships seen by n4", c.listener(4).memberships().stream()
                    .anyMatch(m -> !m.primary()))).containsValue(true);
        }
    }
}
