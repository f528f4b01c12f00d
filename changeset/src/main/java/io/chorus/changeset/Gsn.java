package io.chorus.changeset;

/**
 * Global sequence number: a changeset's position in the group's total order. Contiguous from 1 and identical on
 * every node; {@link #NONE} (0) means "nothing yet".
 */
public record Gsn(long value) implements Comparable<Gsn> {
    public static final Gsn NONE = new Gsn(0);

    public Gsn {
        if (value < 0) {
            throw new IllegalArgumentException("GSN must be >= 0, got " + value);
        }
    }

    public static Gsn of(long value) {
        return value == 0 ? NONE : new Gsn(value);
    }

    public Gsn next() {
        return new Gsn(value + 1);
    }

    public boolean isAfter(Gsn other) {
        return value > other.value;
    }

    public boolean isBefore(Gsn other) {
        return value < other.value;
    }

    public static Gsn max(Gsn a, Gsn b) {
        return a.value >= b.value ? a : b;
    }

    public static Gsn min(Gsn a, Gsn b) {
        return a.value <= b.value ? a : b;
    }

    /** The GSN as a pg_lsn value, the form in which helpers record apply progress in replication origins. */
    public Lsn asLsn() {
        return new Lsn(value);
    }

    @Override
    public int compareTo(Gsn o) {
        return Long.compare(value, o.value);
    }

    @Override
    public String toString() {
        return Long.toString(value);
    }
}
