package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.gcs.Group;
import io.chorus.gcs.GroupConfig;
import io.chorus.gcs.GroupListener;
import io.chorus.gcs.Member;
import io.chorus.gcs.Membership;
import io.chorus.gcs.Transport;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The flow-control cycle, in miniature, with a real (one-member, in-JVM) Raft group: the group's delivery waits for
 * the capture to hand over every local record (as the head helper waits for its capture sync), and the capture hands
 * them to an {@link Appender} with a tiny memory bound while the group, its delivery held and its hand-off queue full,
 * commits nothing. While something waits for the capture, the capture must not wait for the group: records beyond the
 * bound spill to disk and reach the group in order once its delivery goes on. While nothing waits for it, the capture
 * is held back at the bound (flow control) and nothing spills. A full disk stops the domain with a clear error.
 */
class AppenderSpillTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int RECORDS = 300;
    private static final int RECORD_BYTES = 1_000;
    private static final long MEMORY_BOUND = 8 * RECORD_BYTES;

    @TempDir
    Path dir;

    /**
     * A record submitted while earlier ones are still unconfirmed goes to the group at once (the group batches what
     * queues behind its entries in flight); it does not wait for an unrelated commit first. The group here is real;
     * the appender sees its confirmations only once the test lets them through. The 500 ms bound is far above the
     * hand-over's cost and below the 1 s for which an appender that waited for its oldest record would hold it.
     */
    @Test
    @Timeout(120)
    void aRecordGoesToTheGroupWhileEarlierOnesAreUnconfirmed() throws Exception {
        CountDownLatch open = new CountDownLatch(0);
        try (HeldGroup g = new HeldGroup(dir, open)) {
            List<Long> handed = new CopyOnWriteArrayList<>();
            CompletableFuture<Void> confirm = new CompletableFuture<>();
            Appender.Sink real = g.sink();
            Appender.Sink held = new Appender.Sink() {
                @Override
                public CompletableFuture<?> append(long originSeq, byte[] payload, java.util.Map<Long, byte[]> c) {
                    handed.add(originSeq);
                    return real.append(originSeq, payload, c).thenCombine(confirm, (gsn, v) -> gsn);
                }

                @Override
                public void resume() {
                    real.resume();
                }
            };
            AtomicReference<ChorusException> fatal = new AtomicReference<>();
            try (Appender appender = new Appender("test-append", held, 10_000, MEMORY_BOUND, 512,
                    dir.resolve("pipelined.spill"), () -> true, fatal::set)) {
                appender.start();
                for (long seq = 1; seq <= 3; seq++) {
                    appender.submit(new Appender.Item(seq, payload(seq)));
                    long n = seq;
                    Awaitility.await("record " + seq + " handed to the group while " + (seq - 1) + " are unconfirmed")
                            .atMost(Duration.ofMillis(500)).pollInterval(Duration.ofMillis(2))
                            .until(() -> handed.size() == n);
                }
                assertThat(handed).containsExactly(1L, 2L, 3L);
                assertThat(appender.memoryBytes()).as("all three unconfirmed").isEqualTo(3L * RECORD_BYTES);
                confirm.complete(null);
                g.awaitDelivered(3);
                assertThat(g.delivered).extracting(d -> d[0]).containsExactly(1L, 2L, 3L);
                await("the confirmed records' memory to be freed", () -> appender.memoryBytes() == 0);
                assertThat(fatal.get()).isNull();
            }
        }
    }

    @Test
    @Timeout(120)
    void theCaptureNeverWaitsForAStalledGroupAndItsRecordsArriveInOrder() throws Exception {
        CountDownLatch allSubmitted = new CountDownLatch(1);
        try (HeldGroup g = new HeldGroup(dir, allSubmitted)) {
            AtomicReference<ChorusException> fatal = new AtomicReference<>();
            Path spill = dir.resolve("spill").resolve("records.spill");
            try (Appender appender = new Appender("test-append", g.sink(), 10_000, MEMORY_BOUND, 512, spill,
                    () -> !g.waitsForTheCapture.get(), fatal::set)) {
                appender.start();
                appender.submit(new Appender.Item(1, payload(1)));
                await("the group's delivery to wait for the capture", g.waitsForTheCapture::get);
                long maxSpilled = 0;
                for (int seq = 2; seq <= RECORDS; seq++) {
                    // some records bring catalog entries (relation versions): spilled ones must keep them
                    appender.submit(new Appender.Item(seq, payload(seq), seq % 97 == 0
                            ? java.util.Map.of((long) seq, payload(seq)) : java.util.Map.of()));
                    maxSpilled = Math.max(maxSpilled, appender.spilled());
                    assertThat(appender.memoryBytes()).as("payload bytes held in memory")
                            .isLessThanOrEqualTo(MEMORY_BOUND);
                }
                allSubmitted.countDown();
                assertThat(g.heldUntilAllSubmitted.get(WAIT.toSeconds(), TimeUnit.SECONDS))
                        .as("the group's delivery was still waiting for the capture when the last record was submitted")
                        .isTrue();
                assertThat(maxSpilled).as("records spilled while the group was stalled").isGreaterThan(100);
                g.awaitDelivered(RECORDS);
                assertThat(g.delivered).extracting(d -> d[0])
                        .containsExactlyElementsOf(LongStream.rangeClosed(1, RECORDS).boxed().toList());
                assertThat(g.delivered).extracting(d -> d[1]).as("each payload names its own record")
                        .containsExactlyElementsOf(LongStream.rangeClosed(1, RECORDS).boxed().toList());
                for (int seq = 97; seq <= RECORDS; seq += 97) {
                    assertThat(g.group.catalog().definition(seq)).as("catalog entry of record %d", seq)
                            .isEqualTo(payload(seq));
                }
                await("the spill file to be deleted once drained", () -> !Files.exists(spill));
                assertThat(appender.spilled()).isZero();
                assertThat(fatal.get()).isNull();
            }
        }
    }

    @Test
    @Timeout(120)
    void whileNothingWaitsForTheCaptureItIsHeldBackAtTheMemoryBoundAndNothingSpills() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HeldGroup g = new HeldGroup(dir, release)) {
            Path spill = dir.resolve("held").resolve("records.spill");
            try (Appender appender = new Appender("test-append", g.sink(), 10_000, MEMORY_BOUND, 512, spill,
                    () -> true, e -> { })) {
                appender.start();
                AtomicLong submitted = new AtomicLong();
                Thread capture = new Thread(() -> {
                    try {
                        for (int seq = 1; seq <= RECORDS; seq++) {
                            appender.submit(new Appender.Item(seq, payload(seq)));
                            submitted.set(seq);
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }, "test-capture");
                capture.start();
                await("the capture to be held back at the memory bound", () -> appender.heldBack() > 10);
                assertThat(submitted.get()).as("records taken while the group commits nothing: the memory bound, plus "
                        + "the few the group committed before its hand-off filled").isLessThanOrEqualTo(MEMORY_BOUND / RECORD_BYTES + 4);
                assertThat(appender.spilled()).isZero();
                release.countDown();
                g.awaitDelivered(RECORDS);
                capture.join(WAIT.toMillis());
                assertThat(g.delivered).extracting(d -> d[0])
                        .containsExactlyElementsOf(LongStream.rangeClosed(1, RECORDS).boxed().toList());
                assertThat(spill).doesNotExist();
            }
        }
    }

    @Test
    @Timeout(120)
    void aFullDiskStopsTheDomainWithTheCauseAndTheFixAndDropsNothingQueued() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (HeldGroup g = new HeldGroup(dir, release)) {
            AtomicReference<ChorusException> fatal = new AtomicReference<>();
            Path spill = dir.resolve("full").resolve("records.spill");
            try (Appender appender = new Appender("test-append", g.sink(), 10_000, MEMORY_BOUND, 512, spill,
                    () -> false, fatal::set)) {
                Files.createSymbolicLink(spill, Path.of("/dev/full")); // every write: ENOSPC
                appender.start();
                long accepted = 0;
                ChorusException refused = null;
                for (int seq = 1; seq <= RECORDS && refused == null; seq++) {
                    try {
                        appender.submit(new Appender.Item(seq, payload(seq)));
                        accepted = seq;
                    } catch (ChorusException e) {
                        refused = e;
                    }
                }
                assertThat(refused).as("a record that cannot be spilled is refused").isNotNull();
                assertThat(refused.isRetriable()).isFalse();
                assertThat(refused.getMessage()).contains(spill.toString()).contains("No space left on device")
                        .contains("Free space on that disk and restart the sidecar").contains("nothing is lost");
                long firstRefused = accepted + 1;
                assertThatThrownBy(() -> appender.submit(new Appender.Item(firstRefused + 1, payload(firstRefused + 1))))
                        .as("later records are refused too: none may overtake the refused one").isSameAs(refused);
                release.countDown();
                await("the appender to report the failure", () -> fatal.get() != null);
                assertThat(fatal.get()).isSameAs(refused);
                assertThat(g.delivered).extracting(d -> d[0]).as("what reached the group is a prefix, in order")
                        .containsExactlyElementsOf(LongStream.rangeClosed(1, g.delivered.size()).boxed().toList());
                assertThat((long) g.delivered.size()).isLessThanOrEqualTo(accepted);
            }
        }
    }

    @Test
    void aSpillFileLeftByAnEarlierRunIsDeletedItsRecordsAreStillInTheSlot() throws Exception {
        Path spill = dir.resolve("left").resolve("records.spill");
        Files.createDirectories(spill.getParent());
        Files.write(spill, new byte[]{1, 2, 3});
        try (AppendQueue q = new AppendQueue(spill, 1, 1, () -> false)) {
            assertThat(spill).doesNotExist();
            assertThat(q.depth()).isZero();
            q.put(new Appender.Item(1, new byte[10]));
            q.put(new Appender.Item(2, new byte[10]));
            assertThat(q.spilled()).isEqualTo(1);
            assertThat(q.poll(0).originSeq()).isEqualTo(1);
            assertThat(q.poll(0)).as("the memory bound holds the spilled record back until the first is released")
                    .isNull();
            q.release(new Appender.Item(1, new byte[10]));
            assertThat(q.poll(0).originSeq()).isEqualTo(2);
            assertThat(spill).doesNotExist();
        }
    }

    private static byte[] payload(long seq) {
        return ByteBuffer.allocate(RECORD_BYTES).putLong(seq).array();
    }

    private static void await(String what, BooleanSupplier condition) {
        Awaitility.await(what).atMost(WAIT).pollInterval(Duration.ofMillis(10)).until(condition::getAsBoolean);
    }

    /**
     * A one-member group whose delivery of its first record waits (bounded) for {@code gate}: its hand-off queue of
     * one record fills, so its log commits nothing more until then.
     */
    private static final class HeldGroup implements GroupListener, AutoCloseable {
        final List<long[]> delivered = new CopyOnWriteArrayList<>();
        /** Whether the first delivery's wait ended because the gate opened (false: it gave up). */
        final CompletableFuture<Boolean> heldUntilAllSubmitted = new CompletableFuture<>();
        final java.util.concurrent.atomic.AtomicBoolean waitsForTheCapture = new java.util.concurrent.atomic.AtomicBoolean();
        private final CountDownLatch gate;
        private final AtomicLong count = new AtomicLong();
        private final Group group;

        HeldGroup(Path dir, CountDownLatch gate) throws Exception {
            this.gate = gate;
            int port;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                port = s.getLocalPort();
            }
            NodeId self = NodeId.of("n1");
            GroupConfig cfg = GroupConfig.builder("spill" + port, self, dir.resolve("group"))
                    .transport(Transport.IN_JVM).members(List.of(new Member(self, "127.0.0.1", port)))
                    .fsync(false).queueCapacity(1).appendTimeout(Duration.ofSeconds(5)).build();
            group = Group.join(cfg, this, Gsn.NONE);
            await("the one-member group to be primary", group::isPrimary);
        }

        Appender.Sink sink() {
            return new Appender.Sink() {
                @Override
                public CompletableFuture<?> append(long originSeq, byte[] payload,
                                                   java.util.Map<Long, byte[]> catalog) {
                    return group.append(originSeq, payload, catalog);
                }

                @Override
                public void resume() {
                    group.resumeAppends();
                }
            };
        }

        @Override
        public void onDelivered(Gsn gsn, NodeId origin, long originSeq, byte[] payload) {
            if (count.incrementAndGet() == 1) {
                waitsForTheCapture.set(true);
                try {
                    heldUntilAllSubmitted.complete(gate.await(WAIT.toSeconds(), TimeUnit.SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    waitsForTheCapture.set(false);
                }
            }
            delivered.add(new long[]{originSeq, ByteBuffer.wrap(payload).getLong()});
        }

        @Override
        public void onMembership(Membership membership) {
        }

        @Override
        public void onFullTransferNeeded(String reason) {
        }

        void awaitDelivered(int n) {
            await(n + " records delivered (have " + delivered.size() + ")", () -> delivered.size() >= n);
        }

        @Override
        public void close() {
            group.close();
        }
    }
}
