package io.chorus.gcs;

import static io.chorus.gcs.TestCluster.ack;
import static io.chorus.gcs.TestCluster.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The forced bootstrap after a majority of the voters was lost for good: a survivor alone does not deliver, is
 * refused without confirmation (told what would be lost and what to run) and while a present member is ahead of it
 * (told which one and the numbers); confirmed on the member with the highest position, it becomes primary alone,
 * takes the other present voters back and numbers new records after the last one delivered.
 */
class ForcedBootstrapTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private static void awaitSeen(Group g, NodeId other, Gsn w) throws InterruptedException {
        Conditions.await(g.self() + " to see the W " + w + " of " + other, WAIT,
                () -> g.bootstrapPlan().seen().containsKey(other) && w.equals(g.bootstrapPlan().seen().get(other).w()),
                () -> g.bootstrapPlan().toString());
    }

    /** Replaces member {@code i} by a forced bootstrap from it, with a new listener. */
    private static Group force(TestCluster c, int i, Gsn resumeAfter) {
        RecordingListener l = new RecordingListener();
        Group g = c.group(i).forceBootstrap(true, l, resumeAfter);
        c.groups.put(TestCluster.id(i), g);
        c.listeners.put(TestCluster.id(i), l);
        return g;
    }

    @Test
    @Timeout(180)
    void aSurvivorRestartsTheGroupOnlyWhenConfirmedAndNumbersOnAfterTheLastDelivered() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 3, b -> b.appendTimeout(Duration.ofSeconds(10)))) {
            c.startAll();
            c.awaitPrimary(WAIT);
            for (int i = 1; i <= 10; i++) {
                assertThat(ack(c.group(1 + i % 2), i, "r" + i)).isEqualTo(Gsn.of(i));
            }
            c.awaitAll(10, WAIT);
            for (int m = 1; m <= 3; m++) {
                c.group(m).announceWatermark(Gsn.of(10));
            }
            awaitSeen(c.group(1), TestCluster.id(2), Gsn.of(10));
            awaitSeen(c.group(1), TestCluster.id(3), Gsn.of(10));
            c.stop(TestCluster.id(2));
            c.stop(TestCluster.id(3));
            Conditions.await("n1 alone outside a primary component", WAIT, () -> !c.group(1).isPrimary(),
                    c::describe);

            assertThatThrownBy(() -> c.group(1).append(11, text("alone")).get(60, TimeUnit.SECONDS))
                    .as("a survivor alone does not deliver").isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(GcsException.class).hasMessageContaining("NON_PRIMARY");
            assertThat(c.listener(1).lastGsn()).isEqualTo(10);

            BootstrapPlan plan = c.group(1).bootstrapPlan();
            assertThat(plan.missingVoters()).containsExactly(TestCluster.id(2), TestCluster.id(3));
            assertThat(plan.gsnsLost()).isZero();
            assertThatThrownBy(() -> c.group(1).forceBootstrap(false, new RecordingListener(), Gsn.of(10)))
                    .isInstanceOf(GcsException.class)
                    .hasMessageContaining("member n1 (W 10, log GSN 10) is not in a primary component")
                    .hasMessageContaining("missing voters [n2, n3] (a majority is 2 of 3)")
                    .hasMessageContaining("no member seen announced more than this member's log")
                    .hasMessageContaining("confirm the forced bootstrap on n1")
                    .extracting(e -> ((GcsException) e).kind()).isEqualTo(GcsException.Kind.REFUSED);
            assertThat(c.group(1).isPrimary()).as("a refusal changes nothing").isFalse();

            Group g = force(c, 1, Gsn.of(10));
            assertThat(g.isPrimary()).isTrue();
            assertThat(g.membership().voters()).containsExactly(TestCluster.id(1));
            g.resumeAppends();
            Gsn next = ack(g, 12, "after");
            c.awaitAll(next.value(), WAIT);
            List<RecordingListener.Delivery> after = c.listener(1).deliveries();
            Checks.gapFreeAndDuplicateFree(after, 11);
            assertThat(after).extracting(RecordingListener.Delivery::gsn).last().isEqualTo(next.value());
            assertThat(after).extracting(RecordingListener.Delivery::payload).endsWith("after");
        }
    }

    @Test
    @Timeout(240)
    void theForceIsRefusedOnAMemberBehindAPresentOneAndRunsOnTheOneAhead() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 5, b -> b.appendTimeout(Duration.ofSeconds(10)))) {
            c.startAll();
            c.awaitPrimary(WAIT);
            for (int i = 1; i <= 5; i++) {
                ack(c.group(2), i, "a" + i);
            }
            c.awaitAll(5, WAIT);
            c.stop(TestCluster.id(1));
            for (int i = 6; i <= 10; i++) {
                ack(c.group(2), i, "a" + i);
            }
            c.awaitAll(10, WAIT);
            for (int m = 2; m <= 5; m++) {
                c.group(m).announceWatermark(Gsn.of(10));
            }
            for (int m = 3; m <= 5; m++) {
                awaitSeen(c.group(2), TestCluster.id(m), Gsn.of(10));
                c.stop(TestCluster.id(m));
            }
            Conditions.await("n2 alone, without a leader", WAIT,
                    () -> !c.group(2).isPrimary() && c.group(2).membership().leader().isEmpty(), c::describe);
            c.start(TestCluster.id(1), Gsn.of(5)).announceWatermark(Gsn.of(5));
            awaitSeen(c.group(1), TestCluster.id(2), Gsn.of(10));
            awaitSeen(c.group(2), TestCluster.id(1), Gsn.of(5));
            assertThat(c.group(1).appliedGsn()).as("n1 got nothing from n2 without a primary component")
                    .isEqualTo(Gsn.of(5));

            assertThatThrownBy(() -> c.group(1).forceBootstrap(true, new RecordingListener(), Gsn.of(5)))
                    .isInstanceOf(GcsException.class)
                    .hasMessageContaining("refusing a forced bootstrap from n1 (W 5, log GSN 5)")
                    .hasMessageContaining("n2 (W 10, log GSN 10) is present and ahead of it")
                    .hasMessageContaining("run the forced bootstrap on n2 instead")
                    .hasMessageContaining("5 GSNs beyond its log would be lost");
            BootstrapPlan fromN2 = c.group(2).bootstrapPlan();
            assertThat(fromN2.presentAhead()).isEmpty();
            assertThat(fromN2.missingVoters()).containsExactly(TestCluster.id(3), TestCluster.id(4), TestCluster.id(5));
            assertThat(fromN2.unknownVoters()).isEmpty();

            Group g = force(c, 2, Gsn.of(10));
            Conditions.await("n1 back as a voter beside n2", WAIT,
                    () -> g.membership().voters().equals(List.of(TestCluster.id(1), TestCluster.id(2)))
                            && c.group(1).isPrimary(), c::describe);
            Gsn next = ack(c.group(1), 11, "b11");
            assertThat(next).isEqualTo(Gsn.of(11));
            c.awaitAll(11, WAIT);
            assertThat(c.listener(1).deliveries()).extracting(RecordingListener.Delivery::gsn)
                    .containsExactly(6L, 7L, 8L, 9L, 10L, 11L);
            assertThat(c.listener(2).deliveries()).extracting(RecordingListener.Delivery::payload)
                    .containsExactly("b11");
        }
    }
}
