package io.chorus.coordinator.domain;

import io.chorus.changeset.Gsn;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * How far a starting domain's replay of the group log has come (CATCHING_UP): GSNs done of the replay's range, the
 * rate and an ETA, for {@code chorus.status()}'s phase and a log line every 5 s. Not thread-safe: one owner (the
 * go-live); the text it returns is published through a volatile field.
 */
final class CatchUpProgress {
    private static final Logger LOG = LogManager.getLogger(CatchUpProgress.class);
    private static final long LOG_EVERY_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final long from;
    private final long to;
    private final long startNanos = System.nanoTime();
    private long lastLogNanos = startNanos - LOG_EVERY_NANOS; // the first update logs

    /** Replays GSNs above {@code from} up to {@code to} (the domain's W). */
    CatchUpProgress(Gsn from, Gsn to) {
        this.from = from.value();
        this.to = to.value();
    }

    /** The phase text at {@code delivered}; logs it every 5 s. */
    String update(long delivered) {
        long now = System.nanoTime();
        long done = Math.max(0, Math.min(delivered, to) - from);
        long total = Math.max(1, to - from);
        double seconds = Math.max(1e-3, (now - startNanos) / 1e9);
        double rate = done / seconds;
        String eta = rate <= 0 ? "unknown" : Math.round((total - done) / rate) + " s";
        String text = String.format("catching up: replayed %d of %d GSNs of the group log (GSN %d, W=%d), %.0f GSN/s, "
                + "ETA %s", done, total, Math.max(delivered, from), to, rate, eta);
        if (now - lastLogNanos >= LOG_EVERY_NANOS) {
            lastLogNanos = now;
            LOG.info("CATCHING_UP {}", text);
        }
        return text;
    }

    long elapsedMillis() {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
