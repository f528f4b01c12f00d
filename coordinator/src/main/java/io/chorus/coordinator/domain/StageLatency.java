package io.chorus.coordinator.domain;

import io.chorus.changeset.Gsn;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Locale;

/**
 * Where a changeset's time goes, measured from its origin's commit timestamp (the origin and this node read the same
 * clock on one machine; across machines the figures include the clocks' offset): until this node's capture decoded it
 * (own changesets), until it came back in total order (own and remote), until a helper committed it here (remote).
 * Each stage keeps the latencies of one period (at most {@value #MAX_SAMPLES} each, every further one replaces a
 * random earlier one); {@link #summary} reports and restarts the period. Thread-safe; cheap enough for every
 * changeset.
 */
final class StageLatency {
    static final int MAX_SAMPLES = 8192;
    /** Commits waiting for their apply, sampled: at most one per {@value #APPLY_SAMPLE_MILLIS} ms. */
    static final long APPLY_SAMPLE_MILLIS = 5;

    /** The latencies of one stage in the current period. */
    private static final class Stage {
        final String name;
        long[] micros = new long[MAX_SAMPLES];
        int size;
        long seen;

        Stage(String name) {
            this.name = name;
        }

        void add(long value) {
            seen++;
            if (size < micros.length) {
                micros[size++] = value;
            } else {
                long slot = Math.floorMod(seen * 0x9E3779B97F4A7C15L, seen);
                if (slot < micros.length) {
                    micros[(int) slot] = value;
                }
            }
        }

        String report() {
            if (size == 0) {
                return null;
            }
            long[] sorted = Arrays.copyOf(micros, size);
            Arrays.sort(sorted);
            String s = String.format(Locale.ROOT, "%s p50 %.1f p99 %.1f max %.1f ms (%d)", name,
                    quantile(sorted, 0.5) / 1e3, quantile(sorted, 0.99) / 1e3, sorted[size - 1] / 1e3, seen);
            size = 0;
            seen = 0;
            return s;
        }

        private static long quantile(long[] sorted, double q) {
            return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
        }
    }

    private record Waiting(long gsn, Instant commitTime) {
    }

    private final Stage captured = new Stage("captured");
    private final Stage ownOrdered = new Stage("own ordered");
    private final Stage remoteDelivered = new Stage("remote delivered");
    private final Stage remoteApplied = new Stage("remote applied");
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private long lastWaitingMillis;

    synchronized void captured(Instant commitTime) {
        captured.add(sinceMicros(commitTime));
    }

    synchronized void delivered(Gsn gsn, Instant commitTime, boolean own) {
        long now = System.currentTimeMillis();
        if (own) {
            ownOrdered.add(sinceMicros(commitTime));
            return;
        }
        remoteDelivered.add(sinceMicros(commitTime));
        if (now - lastWaitingMillis >= APPLY_SAMPLE_MILLIS && waiting.size() < MAX_SAMPLES) {
            lastWaitingMillis = now;
            waiting.addLast(new Waiting(gsn.value(), commitTime));
        }
    }

    synchronized void applied(Gsn upTo) {
        while (!waiting.isEmpty() && waiting.peekFirst().gsn() <= upTo.value()) {
            remoteApplied.add(sinceMicros(waiting.removeFirst().commitTime()));
        }
    }

    /** One line of every stage with latencies in the period since the last summary (null if none), then a new one. */
    synchronized String summary() {
        StringBuilder sb = new StringBuilder();
        for (Stage s : new Stage[] {captured, ownOrdered, remoteDelivered, remoteApplied}) {
            String r = s.report();
            if (r != null) {
                sb.append(sb.isEmpty() ? "" : "; ").append(r);
            }
        }
        return sb.isEmpty() ? null : sb.toString();
    }

    private static long sinceMicros(Instant commitTime) {
        Instant now = Instant.now();
        return Math.max(0, (now.getEpochSecond() - commitTime.getEpochSecond()) * 1_000_000L
                + (now.getNano() - commitTime.getNano()) / 1_000);
    }
}
