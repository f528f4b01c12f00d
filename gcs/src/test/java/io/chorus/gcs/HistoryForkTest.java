package io.chorus.gcs;

import static io.chorus.gcs.TestCluster.ack;
import static io.chorus.gcs.TestCluster.id;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Gsn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A forced bootstrap starts a new history, and a member of the old history that holds GSNs beyond the fork is refused
 * when it comes back with its old log. Five voters n1..n5 order GSNs 1..10; n1 (A) and n2 (B) stop; n3 (C), n4 and n5
 * order 11..15 without them and are lost. A is forced alone (its log ends at GSN 10): history 1, fork GSN 10. B comes
 * back with its old log at GSN 10, a prefix of history 1: it joins and is added back as a voter. C comes back with its
 * old log at GSN 15: refused, naming C, its history and GSN, the group's history, the fork and the fix; the group's
 * log does not change. A and B go on, and restarts of members of history 1 (one, then both) are accepted.
 */
class HistoryForkTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    @Timeout(240)
    void aRemovedMemberPastTheForkIsRefusedAndMembersOfTheNewHistoryRestart() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 5, b -> b.appendTimeout(Duration.ofSeconds(10)))) {
            c.startAll();
            c.awaitPrimary(WAIT);
            for (int i = 1; i <= 10; i++) {
                ack(c.group(3), i, "old" + i);
            }
            c.awaitAll(10, WAIT);
            c.stop(id(1));
            c.stop(id(2));
            for (int i = 11; i <= 15; i++) {
                assertThat(ack(c.group(3), i, "lost" + i)).isEqualTo(Gsn.of(i));
            }
            c.awaitAll(15, WAIT);
            assertThat(c.group(3).history()).isEqualTo(History.FIRST);
            for (int m = 3; m <= 5; m++) {
                c.stop(id(m));
            }

            c.start(id(1), Gsn.of(10));
            Conditions.await("n1 alone outside a primary component", WAIT,
                    () -> !c.group(1).isPrimary() && c.group(1).appliedGsn().equals(Gsn.of(10)), c::describe);
            RecordingListener la = new RecordingListener();
            Group a = c.group(1).forceBootstrap(true, la, Gsn.of(10));
            c.groups.put(id(1), a);
            c.listeners.put(id(1), la);
            History forked = a.history();
            assertThat(forked.generation()).isEqualTo(1);
            assertThat(forked.forks()).singleElement().satisfies(f -> {
                assertThat(f.by()).isEqualTo(id(1));
                assertThat(f.agreedGsn()).isEqualTo(10);
                assertThat(f.forkGsn()).isEqualTo(10);
            });
            assertThat(a.membership().voters()).containsExactly(id(1));

            // B: the old history up to GSN 10, a prefix of history 1: accepted, added back, learns history 1
            Group b = c.start(id(2), Gsn.of(10));
            a.addMember(c.members.get(1));
            Conditions.await("n2 back as a voter in history 1", WAIT,
                    () -> b.history().equals(forked) && a.membership().voters().equals(List.of(id(1), id(2)))
                            && b.isPrimary(), c::describe);
            a.resumeAppends();
            assertThat(ack(b, 11, "new11")).isEqualTo(Gsn.of(11));
            c.awaitAll(11, WAIT);
            List<RecordingListener.Delivery> before = c.listener(1).deliveries();
            long seqOfC = a.lastDeliveredSeq(id(3));

            // C: the old history up to GSN 15, past the fork: refused, the group's log unchanged
            assertThatThrownBy(() -> c.start(id(3), Gsn.of(15)))
                    .isInstanceOf(GcsException.class)
                    .satisfies(e -> System.out.println("HistoryForkTest: refusal: " + e.getMessage()))
                    .hasMessageContaining("member n3 was refused by n")
                    .hasMessageContaining("member n3 holds history 0 (the group's first) up to GSN 15")
                    .hasMessageContaining("continues in history 1 (" + forked.id() + ", forced by n1 in term ")
                    .hasMessageContaining("was left by a forced bootstrap of n1 in term ")
                    .hasMessageContaining("at fork GSN 10 (the same records in both histories up to GSN 10)")
                    .hasMessageContaining("may hold GSNs 11..15 that history 1 (" + forked.id() + ") does not have")
                    .hasMessageContaining("stop n3, empty its group data directory and let it rejoin by a full "
                            + "transfer")
                    .extracting(e -> ((GcsException) e).kind()).as("the reason code the group sent")
                    .isEqualTo(GcsException.Kind.PAST_FORK);
            assertThat(c.groups).doesNotContainKey(id(3));

            // C with its group folder moved away but its database still at GSN 15 of history 0: refused alike
            java.nio.file.Path old = c.config(id(3)).dataDir();
            java.nio.file.Files.move(old, old.resolveSibling("n3.moved"));
            assertThatThrownBy(() -> c.start(id(3), Gsn.of(15), new History.Held(History.FIRST, 15)))
                    .isInstanceOf(GcsException.class)
                    .hasMessageContaining("member n3 holds history 0 (the group's first) up to GSN 15")
                    .extracting(e -> ((GcsException) e).kind()).isEqualTo(GcsException.Kind.PAST_FORK);
            assertThat(c.groups).doesNotContainKey(id(3));
            assertThat(a.membership().present()).containsExactly(id(1), id(2));
            assertThat(a.appliedGsn()).isEqualTo(Gsn.of(11));
            assertThat(b.appliedGsn()).isEqualTo(Gsn.of(11));
            assertThat(a.lastDeliveredSeq(id(3))).as("no record of n3 entered the log").isEqualTo(seqOfC);
            assertThat(c.listener(1).deliveries()).isEqualTo(before);

            // A and B go on
            assertThat(ack(a, 12, "new12")).isEqualTo(Gsn.of(12));
            c.awaitAll(12, WAIT);
            assertThat(c.listener(2).deliveries()).extracting(RecordingListener.Delivery::payload)
                    .containsExactly("new11", "new12");

            // a member of history 1 restarts: accepted, continues
            c.stop(id(2));
            Group b2 = c.start(id(2), Gsn.of(12));
            assertThat(b2.history()).isEqualTo(forked);
            Conditions.await("n2 primary again", WAIT, b2::isPrimary, c::describe);
            assertThat(ack(b2, 13, "new13")).isEqualTo(Gsn.of(13));
            c.awaitAll(13, WAIT);

            // both members of history 1 restart (a whole-cluster restart): accepted, continue
            c.stop(id(1));
            c.stop(id(2));
            Group a3 = c.start(id(1), Gsn.of(13));
            Group b3 = c.start(id(2), Gsn.of(13));
            assertThat(a3.history()).isEqualTo(forked);
            assertThat(b3.history()).isEqualTo(forked);
            c.awaitPrimary(WAIT);
            assertThat(ack(a3, 14, "new14")).isEqualTo(Gsn.of(14));
            c.awaitAll(14, WAIT);
            assertThat(c.listener(2).deliveries()).extracting(RecordingListener.Delivery::payload)
                    .containsExactly("new14");
        }
    }
}
