package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Adding a fourth voter under load and removing it again; two data members plus an arbitrator. */
@Tag("slow")
class MembershipChangeTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    @Timeout(240)
    void addAFourthVoterUnderLoadThenRemoveIt() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 4, b -> b)) {
            NodeId n4 = TestCluster.id(4);
            // the first three form the group; n4 is in everyone's member list (discovery) but not yet a voter
            for (int i = 1; i <= 3; i++) {
                c.start(TestCluster.id(i), Gsn.NONE);
            }
            c.awaitPrimary(WAIT);
            c.group(1).removeMember(n4);
            Conditions.await("n4 not a voter yet", WAIT, () -> c.groups.values().stream()
                    .noneMatch(g -> g.membership().voters().contains(n4)), c::describe);
            List<Writer> writers = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                writers.add(new Writer(c.group(i), 20, 300));
            }
            c.awaitAll(1_000, WAIT);
            Group joiner = c.start(n4, Gsn.NONE);
            // with three voters up, a fourth that is still catching up does not stall commits (3 of 4 remain)
            c.group(2).addMember(c.members.get(3));
            long atJoin = c.listener(1).lastGsn();
            c.awaitAll(atJoin + 500, WAIT);
            Conditions.await("n4 caught up", WAIT,
                    () -> joiner.appliedGsn().value() >= c.group(1).appliedGsn().value() - 500, c::describe);
            Conditions.await("n4 a voter everywhere", WAIT, () -> c.groups.values().stream()
                    .allMatch(g -> g.membership().voters().contains(n4)), c::describe);
            long atAdd = c.listener(1).lastGsn();
            writers.add(new Writer(joiner, 20, 300));
            c.awaitAll(atAdd + 1_000, WAIT);

            c.group(1).removeMember(n4);
            Conditions.await("n4 no longer a voter", WAIT, () -> c.groups.entrySet().stream()
                    .filter(e -> !e.getKey().equals(n4))
                    .allMatch(e -> !e.getValue().membership().voters().contains(n4)), c::describe);
            writers.remove(3).close();
            c.stop(n4);
            long atRemove = c.listener(1).lastGsn();
            c.awaitAll(atRemove + 1_000, WAIT);
            for (Writer w : writers) {
                w.close();
            }
            long end = c.groups.values().stream().mapToLong(g -> g.appliedGsn().value()).max().orElse(0);
            c.awaitAll(end, WAIT);
            List<RecordingListener.Delivery> seq = c.listener(1).deliveries();
            Checks.gapFreeAndDuplicateFree(seq, 1);
            assertThat(c.listener(2).deliveries()).isEqualTo(seq);
            assertThat(c.listener(3).deliveries()).isEqualTo(seq);
            List<RecordingListener.Delivery> fromN4 = c.listeners.get(n4).deliveries();
            assertThat(fromN4).isEqualTo(seq.subList(0, fromN4.size()));
            assertThat(seq).anyMatch(d -> d.origin().equals("n4"));
        }
    }

    @Test
    @Timeout(240)
    void aVoterAddedBackThroughASnapshotVotesAgain() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 4, b -> b.retentionBytes(64 * 1024))) {
            NodeId n4 = TestCluster.id(4);
            c.startAll();
            c.awaitPrimary(WAIT);
            c.group(1).removeMember(n4);
            Conditions.await("n4 applied its removal (a learner now)", WAIT,
                    () -> !c.group(4).membership().voters().contains(n4), c::describe);
            c.stop(n4);
            RetentionTest.appendMany(c.group(1), "a", 2_000);
            Conditions.await("the leader compacted its log", WAIT, () -> c.group(1).firstAvailable().value() > 1,
                    c::describe);
            c.group(1).addMember(c.members.get(3));
            // n4 restarts a learner (its own log ends with its removal); the leader sends it a snapshot that lists it
            c.start(n4, Gsn.NONE);
            RecordingListener l4 = c.listener(4);
            l4.await(() -> !l4.transfers().isEmpty(), WAIT, "a full-transfer notice on n4");
            Conditions.await("n4 sees itself a voter", WAIT, () -> c.group(4).membership().voters().contains(n4),
                    c::describe);
            Conditions.await("n4 a follower counting 3 of 4 (not a learner, not the snapshot's stale majority)", WAIT,
                    () -> c.group(4).logRole().equals("Follower/3"), () -> c.group(4).logRole());
            // without n1, a leader needs 3 of the 4 voters: n2, n3 and n4 must all vote
            c.stop(TestCluster.id(1));
            Conditions.await("a leader elected by n2, n3 and n4", WAIT, () -> c.group(2).isPrimary()
                    && c.group(4).isPrimary(), c::describe);
            assertThat(c.group(2).append(1, Writer.payload("after", 1)).get(30, TimeUnit.SECONDS).value())
                    .isGreaterThan(2_000);
        }
    }

    @Test
    @Timeout(240)
    void twoDataMembersAndAnArbitratorSurviveTheLossOfADataMember() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 3, b -> b)) {
            c.start(TestCluster.id(1), Gsn.NONE);
            c.start(TestCluster.id(2), Gsn.NONE);
            Group arbitrator = ArbitratorMain.start(ArbitratorMain.config(Map.of("group", c.name, "node", "n3",
                    "members", c.members.stream().map(Member::toString).reduce((a, b) -> a + "," + b).orElseThrow(),
                    "data-dir", dir.resolve("n3").toString(), "fsync", "false", "transport", "IN_JVM")));
            try {
                Conditions.await("primary", WAIT, () -> c.group(1).isPrimary() && c.group(2).isPrimary()
                        && arbitrator.isPrimary(), c::describe);
                for (int i = 1; i <= 50; i++) {
                    c.group(1 + i % 2).append(0, Writer.payload("before", i)).get(30, TimeUnit.SECONDS);
                }
                c.awaitAll(50, WAIT);
                c.groups.remove(TestCluster.id(1)).faults().crash();
                Conditions.await("n2 primary with the arbitrator", WAIT, () -> c.group(2).isPrimary(), c::describe);
                for (int i = 1; i <= 50; i++) {
                    assertThat(c.group(2).append(i, Writer.payload("after", i)).get(30, TimeUnit.SECONDS).value())
                            .isGreaterThan(50);
                }
                c.listener(2).awaitGsn(100, WAIT);
                Checks.gapFreeAndDuplicateFree(c.listener(2).deliveries(), 1);
                assertThat(arbitrator.appliedGsn().value()).isGreaterThanOrEqualTo(99);
            } finally {
                arbitrator.close();
            }
        }
    }
}
