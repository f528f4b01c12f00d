package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Benchmark harness (not a test): committed records/s and append-to-delivery latency (measured at the appending
 * member) for 3 members over TCP loopback in one JVM, 200-byte records, with and without batching, fsync on and
 * off. Run: {@code java -cp <test classpath> io.chorus.gcs.GroupBenchmark [seconds per run] [batch sizes, e.g. 32,1]}.
 */
public final class GroupBenchmark {
    private static final int PAYLOAD = 200;

    private GroupBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        int[] batches = args.length > 1 ? Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt).toArray()
                : new int[] {32, 1};
        System.out.println("mode                      rec/s(saturated)  p50/p99 ms(saturated)  p50/p99 ms(1 in flight)");
        for (boolean fsync : new boolean[] {true, false}) {
            for (int batch : batches) {
                run(fsync, batch, seconds);
            }
        }
    }

    /** Per-member delivery clock: when this member's own record (by seq) was delivered. */
    private static final class Clock implements GroupListener {
        final NodeId self;
        final ConcurrentHashMap<Long, Long> sent = new ConcurrentHashMap<>();
        final List<Long> latencies = java.util.Collections.synchronizedList(new ArrayList<>());
        final AtomicLong delivered = new AtomicLong();

        Clock(NodeId self) {
            this.self = self;
        }

        @Override
        public void onDelivered(Gsn gsn, NodeId origin, long originSeq, byte[] payload) {
            delivered.incrementAndGet();
            if (origin.equals(self)) {
                Long t = sent.remove(originSeq);
                if (t != null) {
                    latencies.add(System.nanoTime() - t);
                }
            }
        }

        @Override
        public void onMembership(Membership m) {
        }

        @Override
        public void onFullTransferNeeded(String reason) {
        }
    }

    private static void run(boolean fsync, int batch, int seconds) throws Exception {
        Path dir = Files.createTempDirectory("chorus-bench");
        List<Member> members = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            members.add(new Member(NodeId.of("n" + i), "127.0.0.1", TestCluster.freePort()));
        }
        String name = "bench" + System.nanoTime() % 100000;
        List<Group> groups = new ArrayList<>();
        List<Clock> clocks = new ArrayList<>();
        try {
            for (Member m : members) {
                Clock clock = new Clock(m.id());
                GroupConfig cfg = GroupConfig.builder(name, m.id(), dir.resolve(m.id().value())).members(members)
                        .fsync(fsync).maxBatchRecords(batch).appendTimeout(Duration.ofSeconds(60)).build();
                groups.add(Group.join(cfg, clock, Gsn.NONE));
                clocks.add(clock);
            }
            Conditions.await("primary", Duration.ofSeconds(60), () -> groups.stream().allMatch(Group::isPrimary),
                    () -> groups.get(0).membership().toString());
            load(groups, clocks, 200, Math.max(2, seconds / 3)); // warm-up
            clocks.forEach(c -> c.latencies.clear());
            long start = clocks.get(0).delivered.get();
            long t0 = System.nanoTime();
            load(groups, clocks, 200, seconds);
            double rate = (clocks.get(0).delivered.get() - start) / ((System.nanoTime() - t0) / 1e9);
            String saturated = percentiles(clocks);
            clocks.forEach(c -> c.latencies.clear());
            load(groups, clocks, 1, seconds);
            String single = percentiles(clocks);
            System.out.printf("fsync=%-5s batch=%-3d      %10.0f        %-22s %s%n", fsync, batch, rate, saturated,
                    single);
        } finally {
            groups.forEach(Group::close);
        }
    }

    /** Every member appends with {@code window} records outstanding for {@code seconds}. */
    private static void load(List<Group> groups, List<Clock> clocks, int window, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            Group g = groups.get(i);
            Clock clock = clocks.get(i);
            Thread t = new Thread(() -> {
                Semaphore permits = new Semaphore(window);
                byte[] pad = new byte[PAYLOAD];
                try {
                    for (long seq = seqBase(); System.nanoTime() < end; seq++) {
                        if (!permits.tryAcquire(1, TimeUnit.SECONDS)) {
                            continue;
                        }
                        ByteBuffer.wrap(pad).putLong(seq);
                        clock.sent.put(seq, System.nanoTime());
                        g.append(seq, pad).whenComplete((gsn, err) -> permits.release());
                    }
                    permits.tryAcquire(window, 60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "bench-" + g.self());
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join(TimeUnit.SECONDS.toMillis(seconds + 90));
        }
    }

    private static final AtomicLong SEQ = new AtomicLong();

    private static long seqBase() {
        return SEQ.addAndGet(1_000_000_000L);
    }

    private static String percentiles(List<Clock> clocks) {
        List<Long> all = new ArrayList<>();
        clocks.forEach(c -> all.addAll(c.latencies));
        if (all.isEmpty()) {
            return "n/a";
        }
        long[] a = all.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        return String.format("%.2f/%.2f", a[a.length / 2] / 1e6, a[(int) (a.length * 0.99)] / 1e6);
    }
}
