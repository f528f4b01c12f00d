package io.chorus.recovery;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.time.Duration;

/**
 * How far a full transfer has come, for {@code chorus.status()} and the log. Immutable.
 *
 * @param estimatedBytes the donor's table sizes: COPY bytes differ from it, so the ETA is an estimate
 */
public record TransferProgress(NodeId donor, Gsn gsn, int tablesDone, int tables, long rows, long bytes,
                               long estimatedBytes, Duration elapsed) {

    /** Seconds left at the rate so far, or -1 before there is a rate. */
    public long etaSeconds() {
        if (bytes <= 0 || elapsed.isZero()) {
            return -1;
        }
        double rate = bytes / (elapsed.toMillis() / 1000.0 + 1e-3);
        return Math.max(0, Math.round((estimatedBytes - bytes) / rate));
    }

    /** One line: "receiving from node1 at GSN 120: 3/7 tables, 52000 rows, 12.5 of ~40.0 MB, ETA 9 s". */
    public String describe() {
        long eta = etaSeconds();
        return String.format("receiving from %s at GSN %s: %d/%d tables, %d rows, %.1f of ~%.1f MB, ETA %s", donor, gsn,
                tablesDone, tables, rows, bytes / 1e6, estimatedBytes / 1e6, eta < 0 ? "unknown" : eta + " s");
    }
}
