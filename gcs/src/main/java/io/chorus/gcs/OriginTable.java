package io.chorus.gcs;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * The deduplication and ordering state of the log's state machine, one row per origin: the highest originSeq delivered
 * and its GSN, the incarnation and number of the origin's last applied entry, and the responses of its last
 * {@value #RESPONSES_KEPT} entries. Part of every snapshot. Only the Raft thread touches it (callers synchronise).
 *
 * <p>Rules (all deterministic, so every member decides alike):
 * <ul>
 *   <li>A record whose originSeq is positive and not above its origin's last delivered originSeq is a duplicate (a
 *       resend after a sidecar restart).</li>
 *   <li>An entry numbered at or below the origin's last applied entry of the same incarnation is a retry of an append
 *       whose answer was lost: it gets the cached answer.</li>
 *   <li>An origin's entries apply in their number order without gaps: an entry whose predecessor was not applied (it
 *       was lost with a leader, while later entries were in flight) is rejected, and the sender sends again from the
 *       first one. A new incarnation (a new Group instance) starts at entry 1.</li>
 * </ul>
 */
final class OriginTable {
    /** Responses kept per origin: at least the entries one origin can have in flight. */
    static final int RESPONSES_KEPT = 64;

    /** What to do with an entry. */
    enum Verdict { APPLY, RETRY, OUT_OF_ORDER }

    private static final class Row {
        long lastSeq;
        long lastGsn;
        long incarnation;
        long batchNo;
        /** Responses of the last entries, oldest first; the last one is entry {@code batchNo}. */
        final Deque<long[]> responses = new ArrayDeque<>();
    }

    private final Map<String, Row> rows = new HashMap<>();

    /** Whether an entry of format version 2 (ordered per origin) applies, is a retry, or comes too early. */
    Verdict verdict(String origin, long incarnation, long batchNo) {
        Row r = rows.get(origin);
        if (r != null && r.incarnation == incarnation) {
            if (batchNo <= r.batchNo) {
                return Verdict.RETRY;
            }
            return batchNo == r.batchNo + 1 ? Verdict.APPLY : Verdict.OUT_OF_ORDER;
        }
        return batchNo == 1 ? Verdict.APPLY : Verdict.OUT_OF_ORDER;
    }

    /** The number of the entry an origin's incarnation must send next (1 for an unknown incarnation). */
    long expectedBatch(String origin, long incarnation) {
        Row r = rows.get(origin);
        return r != null && r.incarnation == incarnation ? r.batchNo + 1 : 1;
    }

    /**
     * The cached response of an applied entry of the current incarnation, or null if it is no longer kept (or was
     * never applied).
     */
    long[] cachedResponse(String origin, long incarnation, long batchNo) {
        Row r = rows.get(origin);
        if (r == null || r.incarnation != incarnation || batchNo > r.batchNo) {
            return null;
        }
        long back = r.batchNo - batchNo;
        if (back >= r.responses.size()) {
            return null;
        }
        Iterator<long[]> it = r.responses.descendingIterator();
        for (long i = 0; i < back; i++) {
            it.next();
        }
        return it.next();
    }

    /** 0 if the record is new; otherwise its GSN if known, else -1. */
    long duplicateOf(String origin, long seq) {
        Row r = rows.get(origin);
        if (seq <= 0 || r == null || seq > r.lastSeq) {
            return 0;
        }
        return seq == r.lastSeq ? r.lastGsn : -1;
    }

    void delivered(String origin, long seq, long gsn) {
        if (seq > 0) {
            Row r = rows.computeIfAbsent(origin, o -> new Row());
            r.lastSeq = seq;
            r.lastGsn = gsn;
        }
    }

    void applied(String origin, long incarnation, long batchNo, long[] response) {
        Row r = rows.computeIfAbsent(origin, o -> new Row());
        if (r.incarnation != incarnation || batchNo != r.batchNo + 1) {
            r.responses.clear();
        }
        r.incarnation = incarnation;
        r.batchNo = batchNo;
        r.responses.addLast(response);
        while (r.responses.size() > RESPONSES_KEPT) {
            r.responses.removeFirst();
        }
    }

    /** The highest delivered originSeq of an origin (0 if none). */
    long lastSeq(String origin) {
        Row r = rows.get(origin);
        return r == null ? 0 : r.lastSeq;
    }

    /** Snapshot format 2: per origin, the kept responses oldest first. */
    void writeTo(DataOutput out) throws IOException {
        out.writeInt(rows.size());
        for (Map.Entry<String, Row> e : new TreeMap<>(rows).entrySet()) {
            Row r = e.getValue();
            out.writeUTF(e.getKey());
            out.writeLong(r.lastSeq);
            out.writeLong(r.lastGsn);
            out.writeLong(r.incarnation);
            out.writeLong(r.batchNo);
            out.writeInt(r.responses.size());
            for (long[] response : r.responses) {
                writeLongs(out, response);
            }
        }
    }

    /** Reads snapshot format 1 (only the last entry's response) or 2. */
    void readFrom(DataInput in, int format) throws IOException {
        rows.clear();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            String origin = in.readUTF();
            Row r = new Row();
            r.lastSeq = in.readLong();
            r.lastGsn = in.readLong();
            r.incarnation = in.readLong();
            r.batchNo = in.readLong();
            int kept = format == 1 ? 1 : in.readInt();
            for (int k = 0; k < kept; k++) {
                r.responses.addLast(readLongs(in));
            }
            rows.put(origin, r);
        }
    }

    private static void writeLongs(DataOutput out, long[] values) throws IOException {
        out.writeInt(values.length);
        for (long v : values) {
            out.writeLong(v);
        }
    }

    private static long[] readLongs(DataInput in) throws IOException {
        long[] values = new long[in.readInt()];
        for (int j = 0; j < values.length; j++) {
            values[j] = in.readLong();
        }
        return values;
    }
}
