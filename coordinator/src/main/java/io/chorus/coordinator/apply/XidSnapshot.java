package io.chorus.coordinator.apply;

import java.util.Arrays;

/**
 * A PostgreSQL snapshot as {@code pg_current_snapshot()} prints it ({@code xmin:xmax:xip1,xip2,...}), over 64-bit
 * transaction ids (xid8, so no wraparound): every top-level transaction below {@code xmax} and not in {@code xip} had
 * finished (committed or aborted) when the snapshot was taken; those in {@code xip} were running. The list holds
 * top-level ids only (no subtransactions), and not the taking transaction's own id.
 *
 * <p>Immutable; {@code xip} is sorted.
 */
public final class XidSnapshot {
    private final long xmin;
    private final long xmax;
    private final long[] xip;

    private XidSnapshot(long xmin, long xmax, long[] xip) {
        if (xmin <= 0 || xmax < xmin) {
            throw new IllegalArgumentException("not a snapshot: xmin " + xmin + ", xmax " + xmax);
        }
        for (long x : xip) {
            if (x < xmin || x >= xmax) {
                throw new IllegalArgumentException("not a snapshot: running xid " + x + " outside " + xmin + ".."
                        + xmax);
            }
        }
        this.xmin = xmin;
        this.xmax = xmax;
        this.xip = xip;
    }

    /** A snapshot of {@code xmin}, {@code xmax} and running ids {@code xip} (any order). */
    public static XidSnapshot of(long xmin, long xmax, long... xip) {
        long[] sorted = xip.clone();
        Arrays.sort(sorted);
        return new XidSnapshot(xmin, xmax, sorted);
    }

    /**
     * Parses {@code pg_current_snapshot()::text} (or {@code txid_current_snapshot()::text}).
     *
     * @throws IllegalArgumentException when {@code text} is not of the form {@code xmin:xmax:xip,...}
     */
    public static XidSnapshot parse(String text) {
        String[] parts = text.split(":", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("not a snapshot: '" + text + "' (expected xmin:xmax:xip,...)");
        }
        try {
            long[] xip = parts[2].isEmpty() ? new long[0]
                    : Arrays.stream(parts[2].split(",")).mapToLong(Long::parseLong).toArray();
            return of(Long.parseLong(parts[0]), Long.parseLong(parts[1]), xip);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a snapshot: '" + text + "' (" + e.getMessage() + ")", e);
        }
    }

    public long xmin() {
        return xmin;
    }

    public long xmax() {
        return xmax;
    }

    /** How many transactions were running (below xmax). */
    public int running() {
        return xip.length;
    }

    /** The {@code i}-th running transaction id, in ascending order. */
    public long running(int i) {
        return xip[i];
    }

    /** Whether {@code xid} was running when the snapshot was taken (xids at or above xmax are not listed). */
    public boolean isRunning(long xid) {
        return Arrays.binarySearch(xip, xid) >= 0;
    }

    /**
     * This snapshot with {@code xid} listed as running too (when below xmax): a snapshot does not list the taking
     * transaction's own id, which is still running after it.
     */
    public XidSnapshot withRunning(long xid) {
        if (xid <= 0 || xid >= xmax || isRunning(xid)) {
            return this;
        }
        long[] more = Arrays.copyOf(xip, xip.length + 1);
        more[xip.length] = xid;
        Arrays.sort(more);
        return new XidSnapshot(Math.min(xmin, xid), xmax, more);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof XidSnapshot s && s.xmin == xmin && s.xmax == xmax && Arrays.equals(s.xip, xip);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(xmin) * 31 + Long.hashCode(xmax) * 17 + Arrays.hashCode(xip);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder().append(xmin).append(':').append(xmax).append(':');
        for (int i = 0; i < xip.length; i++) {
            sb.append(i == 0 ? "" : ",").append(xip[i]);
        }
        return sb.toString();
    }
}
