package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Over TCP: a member process (first started, so normally the leader) killed with kill -9 and restarted. */
@Tag("slow")
class ProcessKillTest {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @Test
    @Timeout(300)
    void killedMemberProcessRestartsAndCatchesUp() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.TCP, 3, b -> b.appendTimeout(Duration.ofSeconds(60)))) {
            MemberProcess p = MemberProcess.start(c, "n3", 0, 1);
            c.start(TestCluster.id(1), Gsn.NONE);
            c.start(TestCluster.id(2), Gsn.NONE);
            c.awaitPrimary(WAIT);
            boolean wasLeader = c.group(1).membership().leader().equals(java.util.Optional.of(NodeId.of("n3")));
            System.out.println("n3 is the leader before the kill: " + wasLeader);
            Writer w1 = new Writer(c.group(1), 20, 500);
            Writer w2 = new Writer(c.group(2), 20, 500);
            c.awaitAll(2_000, WAIT);
            p.kill();
            long killedAt = c.listener(1).lastGsn();
            System.out.println("killed n3 (kill -9) at about GSN " + killedAt);
            c.awaitAll(killedAt + 2_000, WAIT);

            long resume = p.deliveries().size();
            MemberProcess again = MemberProcess.start(c, "n3", resume, 1_000_000);
            long restartedAt = c.listener(1).lastGsn();
            System.out.println("restarted n3 at GSN " + restartedAt + " with " + resume + " delivered");
            Conditions.await("restarted n3 caught up to GSN " + restartedAt, WAIT,
                    () -> again.delivered() > restartedAt, () -> "n3 delivered " + again.delivered());
            System.out.println("n3 caught up: " + again.delivered() + " delivered, group at " + c.listener(1).lastGsn());
            c.awaitAll(restartedAt + 1_000, WAIT);
            System.out.println("group moved on to " + c.listener(1).lastGsn());
            w1.close();
            w2.close();
            again.kill();
            Conditions.await("n1 and n2 settled on the same last GSN", WAIT, () -> {
                long l1 = c.listener(1).lastGsn();
                return l1 == c.listener(2).lastGsn() && l1 == c.group(1).appliedGsn().value()
                        && l1 == c.group(2).appliedGsn().value();
            }, c::describe);

            List<RecordingListener.Delivery> seq = c.listener(1).deliveries();
            Checks.gapFreeAndDuplicateFree(seq, 1);
            assertThat(c.listener(2).deliveries()).isEqualTo(seq);
            List<RecordingListener.Delivery> fromProcess = again.deliveries();
            assertThat(fromProcess.size()).as("the restarted member caught up past the restart point")
                    .isGreaterThan((int) restartedAt);
            assertThat(fromProcess).as("n3's deliveries across both runs are the group's sequence")
                    .isEqualTo(seq.subList(0, fromProcess.size()));
            List<String> acked = new ArrayList<>(again.acked());
            w1.acked().forEach(s -> acked.add("n1/" + s));
            w2.acked().forEach(s -> acked.add("n2/" + s));
            Checks.everyAcknowledgedDelivered(seq, acked);
            assertThat(seq).anyMatch(d -> d.origin().equals("n3") && d.seq() >= 1_000_000);
        }
    }
}
