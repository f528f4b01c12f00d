package io.chorus.gcs;

import static io.chorus.gcs.TestCluster.ack;
import static io.chorus.gcs.TestCluster.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Gsn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Dedupe by originSeq, GSN continuity across a whole-group restart, append deadlines without a primary. */
class DedupeAndRestartTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Transport.class)
    @Timeout(120)
    void duplicatesAreDroppedAndNumberingContinuesAfterWholeGroupRestart(Transport transport) throws Exception {
        try (TestCluster c = new TestCluster(dir, transport, 3, b -> b.fsync(true))) {
            c.startAll();
            c.awaitPrimary(WAIT);
            assertThat(c.group(1).logUsesFsync()).as("file log fsync on when configured").isTrue();

            assertThat(ack(c.group(1), 5, "a5")).isEqualTo(Gsn.of(1));
            assertThat(ack(c.group(1), 5, "a5-again")).as("same seq again: its earlier GSN").isEqualTo(Gsn.of(1));
            assertThat(ack(c.group(1), 3, "a3")).as("lower seq: dropped, GSN unknown").isEqualTo(Gsn.NONE);
            assertThat(ack(c.group(2), 3, "b3")).as("another origin has its own sequence").isEqualTo(Gsn.of(2));
            assertThat(ack(c.group(1), 0, "z")).isEqualTo(Gsn.of(3));
            assertThat(ack(c.group(1), 0, "z")).as("originSeq 0 is never deduplicated").isEqualTo(Gsn.of(4));
            assertThat(ack(c.group(1), 6, "a6")).isEqualTo(Gsn.of(5));
            c.awaitAll(5, WAIT);
            List<RecordingListener.Delivery> before = c.listener(1).deliveries();
            assertThat(before).extracting(RecordingListener.Delivery::payload)
                    .containsExactly("a5", "b3", "z", "z", "a6");
            assertThat(c.listener(2).deliveries()).isEqualTo(before);
            assertThat(c.listener(3).deliveries()).isEqualTo(before);

            c.close();
            // n1 resumes after what it delivered; n2 replays everything; n3 resumes in the middle
            c.start(TestCluster.id(1), Gsn.of(5));
            c.start(TestCluster.id(2), Gsn.NONE);
            c.start(TestCluster.id(3), Gsn.of(2));
            c.awaitPrimary(WAIT);
            assertThat(ack(c.group(1), 6, "a6-resent")).as("dedupe state survives the restart").isEqualTo(Gsn.of(5));
            assertThat(ack(c.group(3), 1, "c1")).isEqualTo(Gsn.of(6));
            c.awaitAll(6, WAIT);
            assertThat(c.listener(1).deliveries()).extracting(RecordingListener.Delivery::gsn).containsExactly(6L);
            assertThat(c.listener(2).deliveries()).extracting(RecordingListener.Delivery::payload)
                    .containsExactly("a5", "b3", "z", "z", "a6", "c1");
            assertThat(c.listener(3).deliveries()).extracting(RecordingListener.Delivery::gsn)
                    .containsExactly(3L, 4L, 5L, 6L);
        }
    }

    @Test
    @Timeout(120)
    void appendWithoutPrimaryFailsAfterItsDeadlineWithTheMembership() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 3, b -> b.appendTimeout(Duration.ofSeconds(2)))) {
            c.startAll();
            c.awaitPrimary(WAIT);
            c.stop(TestCluster.id(2));
            c.stop(TestCluster.id(3));
            Conditions.await("n1 non-primary", WAIT, () -> !c.group(1).isPrimary(), c::describe);
            long start = System.nanoTime();
            assertThatThrownBy(() -> c.group(1).append(1, text("x")).get(20, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(GcsException.class)
                    .hasMessageContaining("was not committed within 2000 ms")
                    .hasMessageContaining("NON_PRIMARY")
                    .hasMessageContaining("retry the same records in order")
                    .extracting(e -> ((GcsException) e).kind()).isEqualTo(GcsException.Kind.TIMEOUT);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
            assertThat(c.listener(1).deliveries()).isEmpty();
        }
    }
}
