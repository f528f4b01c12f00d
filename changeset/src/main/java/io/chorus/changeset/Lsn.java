package io.chorus.changeset;

/**
 * A PostgreSQL WAL position (pg_lsn). Ordered as an unsigned 64-bit number; printed as PostgreSQL does ({@code 16/B374D848}).
 */
public record Lsn(long value) implements Comparable<Lsn> {
    public static final Lsn INVALID = new Lsn(0);

    public static Lsn of(long value) {
        return new Lsn(value);
    }

    /** Parses PostgreSQL's text form {@code XXXXXXXX/XXXXXXXX}. */
    public static Lsn parse(String text) {
        int slash = text == null ? -1 : text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            throw new IllegalArgumentException("not an LSN (expected hex/hex like 16/B374D848): " + text);
        }
        try {
            long hi = Long.parseLong(text.substring(0, slash), 16);
            long lo = Long.parseLong(text.substring(slash + 1), 16);
            if (hi > 0xFFFFFFFFL || lo > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("LSN part out of range: " + text);
            }
            return new Lsn(hi << 32 | lo);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not an LSN (expected hex/hex like 16/B374D848): " + text, e);
        }
    }

    public boolean isValid() {
        return value != 0;
    }

    public boolean isAfter(Lsn other) {
        return compareTo(other) > 0;
    }

    public boolean isBefore(Lsn other) {
        return compareTo(other) < 0;
    }

    public static Lsn max(Lsn a, Lsn b) {
        return a.compareTo(b) >= 0 ? a : b;
    }

    @Override
    public int compareTo(Lsn o) {
        return Long.compareUnsigned(value, o.value);
    }

    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }
}
