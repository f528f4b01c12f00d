package io.chorus.gcs;

import java.io.DataInput;
import java.io.DataOutput;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The deduplication state of the log's state machine, one row per origin: the highest originSeq delivered and its
 * GSN, and the identity and response of the origin's last applied entry. Part of every snapshot. Only the Raft
 * thread touches it (callers synchronise).
 *
 * <p>Two rules make retries exact. A record whose originSeq is positive and not above its origin's last delivered
 * originSeq is a duplicate (a resend after a sidecar restart). An entry equal to the origin's last applied entry
 * (same incarnation and batch number) is a retry of an append whose answer was lost: it gets the cached answer. An
 * origin has at most one entry in flight, so the last entry is the only one that can be retried.
 */
final class OriginTable {

    private static final class Row {
        long lastSeq;
        long lastGsn;
        long incarnation;
        long batchNo;
        long[] response = new long[0];
    }

    private final Map<String, Row> rows = new HashMap<>();

    /** The cached response if this entry was applied already, else null. */
    long[] retriedResponse(String origin, long incarnation, long batchNo) {
        Row r = rows.get(origin);
        return r != null && r.incarnation == incarnation && r.batchNo == batchNo ? r.response : null;
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
        r.incarnation = incarnation;
        r.batchNo = batchNo;
        r.response = response;
    }

    /** The highest delivered originSeq of an origin (0 if none). */
    long lastSeq(String origin) {
        Row r = rows.get(origin);
        return r == null ? 0 : r.lastSeq;
    }

    void writeTo(DataOutput out) throws IOException {
        out.writeInt(rows.size());
        for (Map.Entry<String, Row> e : new TreeMap<>(rows).entrySet()) {
            Row r = e.getValue();
            out.writeUTF(e.getKey());
            out.writeLong(r.lastSeq);
            out.writeLong(r.lastGsn);
            out.writeLong(r.incarnation);
            out.writeLong(r.batchNo);
            out.writeInt(r.response.length);
            for (long g : r.response) {
                out.writeLong(g);
            }
        }
    }

    void readFrom(DataInput in) throws IOException {
        rows.clear();
        int n = in.readInt();
        for (int i = 0; i < n; i++) {
            String origin = in.readUTF();
            Row r = new Row();
            r.lastSeq = in.readLong();
            r.lastGsn = in.readLong();
            r.incarnation = in.readLong();
            r.batchNo = in.readLong();
            r.response = new long[in.readInt()];
            for (int j = 0; j < r.response.length; j++) {
                r.response[j] = in.readLong();
            }
            rows.put(origin, r);
        }
    }
}
