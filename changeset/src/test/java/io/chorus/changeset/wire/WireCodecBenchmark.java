package io.chorus.changeset.wire;

import io.chorus.changeset.ChangeSet;

import java.util.ArrayList;
import java.util.List;

/**
 * Rough throughput of {@link WireCodec} on generated batches (not a test; run by hand):
 * {@code java -cp <test classpath> io.chorus.changeset.wire.WireCodecBenchmark [seconds]}.
 */
public final class WireCodecBenchmark {
    private WireCodecBenchmark() {
    }

    public static void main(String[] args) {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 5;
        WireCodec codec = new WireCodec();
        RandomChanges gen = new RandomChanges(42);
        List<List<ChangeSet>> batches = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            List<ChangeSet> batch = new ArrayList<>();
            for (int j = 0; j < 20; j++) {
                batch.add(gen.changeSet(10));
            }
            batches.add(batch);
        }
        run("warm-up", codec, batches, Math.max(1, seconds / 2));
        run("measure", codec, batches, seconds);
    }

    private static void run(String phase, WireCodec codec, List<List<ChangeSet>> batches, long seconds) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        long bytes = 0;
        long changeSets = 0;
        long encodeNanos = 0;
        long decodeNanos = 0;
        while (System.nanoTime() < deadline) {
            for (List<ChangeSet> batch : batches) {
                long t0 = System.nanoTime();
                byte[] encoded = codec.encode(batch);
                long t1 = System.nanoTime();
                if (codec.decode(encoded).size() != batch.size()) {
                    throw new IllegalStateException("round trip lost changesets");
                }
                decodeNanos += System.nanoTime() - t1;
                encodeNanos += t1 - t0;
                bytes += encoded.length;
                changeSets += batch.size();
            }
        }
        System.out.printf("%s: %d changesets, %.1f MB; encode %.0f MB/s (%.0f changesets/s), decode %.0f MB/s%n", phase,
                changeSets, bytes / 1e6, bytes / 1e6 / (encodeNanos / 1e9), changeSets / (encodeNanos / 1e9),
                bytes / 1e6 / (decodeNanos / 1e9));
    }
}
