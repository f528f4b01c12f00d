package io.chorus.coordinator.certify;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * One origin's lost changes, kept for R2 until no later changeset of that origin can depend on them, indexed so that
 * {@link #cause} costs a few lookups per probed key instead of a scan of every kept loss (under contention an origin
 * keeps thousands: every loss stays until its deps pass the cause). The answer is exactly the scan's
 * ({@link CertRules#sameOriginCause} over the losses in the order they were added): the lowest cause above deps, and
 * among losses with that cause the first one added. Not thread-safe.
 */
final class OriginLosses<L extends LostChange> {
    /** The losses by cause, each list in the order its losses were added. */
    private final TreeMap<Gsn, List<L>> byCause = new TreeMap<>();
    private final CauseIndex keys = new CauseIndex();

    void add(L lost) {
        byCause.computeIfAbsent(lost.cause(), c -> new ArrayList<>(2)).add(lost);
        keys.add(lost.keys(), lost.cause());
    }

    /** Drops every loss whose cause is at or below {@code gsn}. */
    void dropThrough(Gsn gsn) {
        NavigableMap<Gsn, List<L>> gone = byCause.headMap(gsn, true);
        for (Map.Entry<Gsn, List<L>> e : gone.entrySet()) {
            for (L l : e.getValue()) {
                keys.remove(l.keys(), e.getKey());
            }
        }
        gone.clear();
    }

    boolean isEmpty() {
        return byCause.isEmpty();
    }

    /** R2 for a change with {@code probe} keys and {@code deps}: the dependency with the lowest cause, or null. */
    Dependency<L> cause(List<Key> probe, Gsn deps) {
        Gsn cause = keys.lowestDependencyAbove(probe, deps);
        if (cause == null) {
            return null;
        }
        for (L lost : byCause.get(cause)) {
            Dependency<L> d = CertRules.firstDependency(probe, lost);
            if (d != null) {
                return d;
            }
        }
        throw new IllegalStateException("R2 index names cause GSN " + cause + " but none of its " + byCause.get(cause)
                .size() + " losses meets the probe " + probe);
    }
}
