package io.chorus.changeset;

import java.util.concurrent.ConcurrentHashMap;

/**
 * One shared instance per distinct value, for the few values that every decoded changeset repeats (node ids,
 * relation names, index names): the certification index keeps every key above its purge horizon, hundreds of
 * thousands under a backlog, and a copy of the same names in each was most of its memory. Bounded: past
 * {@code limit} distinct values a new value is returned as it is (a schema with that many relations or indexes only
 * loses the sharing, never correctness).
 *
 * <p>Thread-safe.
 */
public final class Canonical<T> {
    private final ConcurrentHashMap<T, T> known = new ConcurrentHashMap<>();
    private final int limit;

    public Canonical(int limit) {
        this.limit = limit;
    }

    /** The shared instance equal to {@code value} (null stays null). */
    public T of(T value) {
        if (value == null) {
            return null;
        }
        T shared = known.get(value);
        if (shared != null) {
            return shared;
        }
        if (known.size() >= limit) {
            return value;
        }
        shared = known.putIfAbsent(value, value);
        return shared == null ? value : shared;
    }
}
