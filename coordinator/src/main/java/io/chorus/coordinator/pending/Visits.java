package io.chorus.coordinator.pending;

/**
 * Counts the elements the tracker's scans visit (pending sets and changes, lost changes, kept winners, row versions,
 * winners' changes), so tests bound the work per call by counting it instead of timing it. Not thread-safe.
 */
final class Visits {
    private long count;

    void add(long n) {
        count += n;
    }

    long count() {
        return count;
    }
}
