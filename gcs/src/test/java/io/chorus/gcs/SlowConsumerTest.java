package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A consumer that stops consuming: the delivery hand-off stays bounded (events and bytes) and blocks the member's log,
 * nothing is dropped, the rest of the group goes on, and the member catches up once its consumer does.
 */
class SlowConsumerTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    @Timeout(60)
    void handOffIsBoundedInBytesAndBlocksTheProducer() throws Exception {
        RecordingListener l = new RecordingListener();
        l.hold();
        Deliverer d = new Deliverer(NodeId.of("n1"), l, Gsn.NONE, 10_000);
        d.start();
        int mib = 1 << 20;
        int records = (int) (Deliverer.MAX_QUEUED_BYTES / mib) + 16;
        AtomicLong handedOff = new AtomicLong();
        Thread producer = new Thread(() -> {
            for (int gsn = 1; gsn <= records; gsn++) {
                d.record(gsn, "n2", gsn, new byte[mib]);
                handedOff.set(gsn);
            }
        }, "test-producer");
        producer.setDaemon(true);
        producer.start();
        long bound = Deliverer.MAX_QUEUED_BYTES / mib;
        Conditions.await("the producer blocked at the byte bound", WAIT, () -> handedOff.get() >= bound,
                () -> "handed off " + handedOff.get());
        Conditions.await("the producer stays blocked", Duration.ofSeconds(5), () -> producer.getState()
                == Thread.State.TIMED_WAITING || producer.getState() == Thread.State.WAITING, producer::toString);
        assertThat(handedOff.get()).as("records handed off while the consumer is stopped").isLessThanOrEqualTo(bound + 1);
        assertThat(d.queuedBytes()).isLessThanOrEqualTo(Deliverer.MAX_QUEUED_BYTES + mib);
        Conditions.await("the time the log waits counted while it waits", WAIT, () -> d.heldMillis() >= 1_000,
                () -> "held " + d.heldMillis() + " ms");
        l.release();
        l.awaitGsn(records, WAIT);
        assertThat(d.heldMillis()).as("the wait stays counted once it ended").isGreaterThanOrEqualTo(1_000);
        assertThat(l.deliveries()).extracting(RecordingListener.Delivery::gsn)
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, records).boxed().toList());
        d.close();
    }

    @Test
    @Timeout(180)
    void aStalledConsumerDoesNotStopTheGroupAndCatchesUp() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 3, b -> b.queueCapacity(500))) {
            c.startAll();
            c.awaitPrimary(WAIT);
            c.listener(3).hold();
            List<Writer> writers = new ArrayList<>(List.of(new Writer(c.group(1), 20), new Writer(c.group(2), 20)));
            Conditions.await("n1 and n2 moved 5,000 records past the stalled consumer", WAIT,
                    () -> c.listener(1).lastGsn() >= 5_000 && c.listener(2).lastGsn() >= 5_000, c::describe);
            GroupStats stalled = c.group(3).stats();
            System.out.println("n1 at " + c.listener(1).lastGsn() + "; the stalled member: " + stalled);
            assertThat(stalled.deliveryQueueDepth()).as("n3's delivery queue").isLessThanOrEqualTo(500);
            assertThat(stalled.appliedGsn()).as("n3's log stopped applying").isLessThan(1_000);
            assertThat(stalled.deliveryHeldMillis()).as("the time n3's log waited for its listener").isPositive();
            c.listener(3).release();
            long released = c.listener(1).lastGsn();
            c.awaitAll(released, WAIT);
            for (Writer w : writers) {
                w.close();
            }
            long end = c.groups.values().stream().mapToLong(g -> g.appliedGsn().value()).max().orElse(0);
            c.awaitAll(end, WAIT);
            List<RecordingListener.Delivery> seq = c.listener(1).deliveries();
            Checks.gapFreeAndDuplicateFree(seq, 1);
            assertThat(c.listener(2).deliveries()).isEqualTo(seq);
            assertThat(c.listener(3).deliveries()).isEqualTo(seq);
        }
    }
}
