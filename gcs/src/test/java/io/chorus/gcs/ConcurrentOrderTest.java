package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Five members appending concurrently: identical (GSN, record) sequences everywhere, each record exactly once. */
@Tag("slow")
class ConcurrentOrderTest {
    private static final int MEMBERS = 5;
    private static final int PER_MEMBER = 4_000;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(Transport.class)
    @Timeout(300)
    void fiveMembersTwentyThousandRecords(Transport transport) throws Exception {
        try (TestCluster c = new TestCluster(dir, transport, MEMBERS, b -> b)) {
            c.startAll();
            c.awaitPrimary(Duration.ofSeconds(60));
            long start = System.nanoTime();
            List<Thread> writers = new ArrayList<>();
            List<CompletableFuture<Gsn>> acks = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int m = 1; m <= MEMBERS; m++) {
                Group g = c.group(m);
                int member = m;
                Thread t = new Thread(() -> {
                    for (int i = 1; i <= PER_MEMBER; i++) {
                        acks.add(g.append(i, ("n" + member + "/" + i).getBytes(StandardCharsets.UTF_8)));
                    }
                }, "writer-n" + m);
                writers.add(t);
                t.start();
            }
            for (Thread t : writers) {
                t.join(60_000);
                assertThat(t.isAlive()).as("writer %s finished queueing", t.getName()).isFalse();
            }
            for (CompletableFuture<Gsn> f : acks) {
                assertThat(f.get(120, TimeUnit.SECONDS).value()).isBetween(1L, (long) MEMBERS * PER_MEMBER);
            }
            int total = MEMBERS * PER_MEMBER;
            c.awaitAll(total, Duration.ofSeconds(120));
            double secs = (System.nanoTime() - start) / 1e9;
            System.out.printf("%s: %d records committed and delivered on %d members in %.1f s (%.0f rec/s)%n",
                    transport, total, MEMBERS, secs, total / secs);
            List<RecordingListener.Delivery> first = c.listener(1).deliveries();
            assertThat(first).hasSize(total);
            Checks.gapFreeAndDuplicateFree(first, 1);
            for (int m = 2; m <= MEMBERS; m++) {
                assertThat(c.listener(m).deliveries()).as("n%d delivered the same sequence", m).isEqualTo(first);
            }
            for (int m = 1; m <= MEMBERS; m++) {
                Group g = c.group(m);
                Conditions.await("listener of n" + m + " returned from GSN " + total, Duration.ofSeconds(30),
                        () -> g.stats().deliveredGsn() == total, () -> g.stats().toString());
                GroupStats stats = g.stats();
                assertThat(stats.recordsCommitted()).as("n%d records committed", m).isEqualTo(PER_MEMBER);
                assertThat(stats.timeouts()).isZero();
                System.out.println("n" + m + ": " + stats);
                String origin = "n" + m;
                assertThat(first.stream().filter(d -> d.origin().equals(origin)).map(d -> d.seq()).toList())
                        .as("%s's records in its submission order", origin)
                        .isEqualTo(java.util.stream.LongStream.rangeClosed(1, PER_MEMBER).boxed().toList());
            }
        }
    }
}
