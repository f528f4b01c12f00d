package io.chorus.coordinator.domain;

import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Counts certified conflicts between two reports, so that the log gets one line per period instead of one per losing
 * changeset (thousands a second on rows every node updates). Thread-safe: the delivery thread adds, a timer takes.
 */
final class ConflictTally {
    private final Map<String, Long> byKind = new TreeMap<>();
    private final Map<String, Long> byOrigin = new TreeMap<>();
    private long changesets;
    private long rows;

    /** One changeset of {@code origin} lost {@code lostRows} row changes; {@code kind} is its first conflict's. */
    synchronized void add(String origin, String kind, int lostRows) {
        changesets++;
        rows += lostRows;
        byKind.merge(kind, 1L, Long::sum);
        byOrigin.merge(origin, 1L, Long::sum);
    }

    /** The counts since the last call as one line (null when nothing was lost), then restarts. */
    synchronized String takeSummary() {
        if (changesets == 0) {
            return null;
        }
        String s = changesets + " changeset(s) lost " + rows + " row change(s) to earlier ones in the total order ("
                + join(byKind) + "; from " + join(byOrigin) + "); each lost row change is in chorus.conflicts";
        byKind.clear();
        byOrigin.clear();
        changesets = 0;
        rows = 0;
        return s;
    }

    private static String join(Map<String, Long> counts) {
        return counts.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    }
}
