package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The byte layout of one log entry: a batch of records appended by one origin.
 *
 * <pre>
 * byte    format version: 4 (records carry catalog entries); 2 (no catalog entries) and 1 (older builds: no
 *         order check) are still read, so that logs written by them replay as they did; 3 marks a history entry
 * short   origin length, then the origin's UTF-8 bytes
 * long    sender incarnation (random per Group instance)
 * long    batch number within the incarnation (from 1)
 * long    wall-clock milliseconds at the sender (log retention by age)
 * int     record count n
 * n times: long originSeq,
 *         int catalog entry count m, m times: long id, int length, length bytes (version 4 only),
 *         int length, length bytes of payload
 * </pre>
 *
 * Catalog entries are opaque to the group: definitions the appender wants every member to hold by id once the record
 * is committed ({@link LogStateMachine} keeps them, its snapshot too).
 *
 * A forced bootstrap writes one history entry ({@link History}), laid out like the head of a data entry so that the
 * retention reads its time alike:
 *
 * <pre>
 * byte    {@value #HISTORY}
 * short   0 (no origin), long 0, long 0
 * long    wall-clock milliseconds at the forced member
 * long    new history id, most significant bits; long least significant bits
 * UTF     the forced member's node id
 * long    the new term
 * long    agreed GSN: the last GSN the forced member knew committed in the old history
 * </pre>
 *
 * The response of the state machine to an entry is a status byte, then for APPLIED n longs (each record's GSN, or 0
 * for a dropped duplicate whose GSN is not known), for OUT_OF_ORDER one long (the entry number the origin must send
 * next). Stateless and thread-safe.
 */
final class EntryCodec {
    static final byte VERSION = 4;
    /** Format byte of a history entry (a forced bootstrap's). */
    static final byte HISTORY = 3;
    static final byte APPLIED = 0;
    static final byte OUT_OF_ORDER = 1;

    private EntryCodec() {
    }

    /** One record inside an entry, with the catalog entries it brings (usually none). */
    record Rec(long seq, byte[] payload, Map<Long, byte[]> catalog) {
        Rec(long seq, byte[] payload) {
            this(seq, payload, Map.of());
        }
    }

    /** A decoded entry. */
    record Entry(int version, String origin, long incarnation, long batchNo, long timeMillis, List<Rec> records) {
    }

    /** A decoded response: APPLIED with the records' GSNs, or OUT_OF_ORDER with the entry number expected next. */
    record Response(byte status, long[] gsns, long expectedBatch) {
    }

    static byte[] encode(String origin, long incarnation, long batchNo, long timeMillis, List<Rec> records) {
        int size = 1 + 2 + origin.length() * 3 + 8 * 3 + 4;
        for (Rec r : records) {
            size += 16 + r.payload().length;
            for (byte[] d : r.catalog().values()) {
                size += 12 + d.length;
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(size);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            byte[] name = origin.getBytes(StandardCharsets.UTF_8);
            out.writeShort(name.length);
            out.write(name);
            out.writeLong(incarnation);
            out.writeLong(batchNo);
            out.writeLong(timeMillis);
            out.writeInt(records.size());
            for (Rec r : records) {
                out.writeLong(r.seq());
                out.writeInt(r.catalog().size());
                for (Map.Entry<Long, byte[]> d : r.catalog().entrySet()) {
                    out.writeLong(d.getKey());
                    out.writeInt(d.getValue().length);
                    out.write(d.getValue());
                }
                out.writeInt(r.payload().length);
                out.write(r.payload());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** A decoded history entry: the fork it starts, less the fork GSN (the state machine's last GSN there). */
    record HistoryStart(UUID id, NodeId by, long term, long agreedGsn) {
    }

    static byte[] encodeHistory(HistoryStart h, long timeMillis) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(HISTORY);
            out.writeShort(0);
            out.writeLong(0);
            out.writeLong(0);
            out.writeLong(timeMillis);
            out.writeLong(h.id().getMostSignificantBits());
            out.writeLong(h.id().getLeastSignificantBits());
            out.writeUTF(h.by().value());
            out.writeLong(h.term());
            out.writeLong(h.agreedGsn());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static boolean isHistory(byte[] buf, int offset, int length) {
        return length > 0 && buf[offset] == HISTORY;
    }

    static HistoryStart decodeHistory(byte[] buf, int offset, int length) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(buf, offset, length))) {
            in.readByte();
            in.skipBytes(2 + 8 + 8 + 8);
            UUID id = new UUID(in.readLong(), in.readLong());
            NodeId by = NodeId.of(in.readUTF());
            return new HistoryStart(id, by, in.readLong(), in.readLong());
        } catch (IOException e) {
            throw new IllegalStateException("history entry of " + length + " bytes is truncated or corrupt", e);
        }
    }

    static Entry decode(byte[] buf, int offset, int length) {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(buf, offset, length))) {
            byte version = in.readByte();
            if (version != VERSION && version != 2 && version != 1) {
                throw new IllegalStateException("log entry has format version " + version + ", this build reads "
                        + VERSION + "; upgrade this member to the group's version");
            }
            byte[] name = new byte[in.readUnsignedShort()];
            in.readFully(name);
            long incarnation = in.readLong();
            long batchNo = in.readLong();
            long time = in.readLong();
            int n = in.readInt();
            List<Rec> records = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                long seq = in.readLong();
                Map<Long, byte[]> catalog = Map.of();
                int entries = version == VERSION ? in.readInt() : 0;
                if (entries < 0 || entries > length) {
                    throw new IOException("catalog entry count " + entries + " in an entry of " + length + " bytes");
                }
                if (entries > 0) {
                    catalog = new LinkedHashMap<>();
                    for (int j = 0; j < entries; j++) {
                        long id = in.readLong();
                        byte[] d = new byte[checkedLength(in.readInt(), length)];
                        in.readFully(d);
                        catalog.put(id, d);
                    }
                }
                byte[] payload = new byte[checkedLength(in.readInt(), length)];
                in.readFully(payload);
                records.add(new Rec(seq, payload, catalog));
            }
            return new Entry(version, new String(name, StandardCharsets.UTF_8), incarnation, batchNo, time, records);
        } catch (IOException e) {
            throw new IllegalStateException("log entry of " + length + " bytes is truncated or corrupt", e);
        }
    }

    private static int checkedLength(int n, int entryLength) throws IOException {
        if (n < 0 || n > entryLength) {
            throw new IOException("length " + n + " in an entry of " + entryLength + " bytes");
        }
        return n;
    }

    /** The sender's timestamp of an encoded entry, without decoding its records. */
    static long timeMillis(byte[] buf, int offset) {
        ByteBuffer b = ByteBuffer.wrap(buf, offset, buf.length - offset);
        b.get();
        int nameLength = Short.toUnsignedInt(b.getShort());
        return b.getLong(b.position() + nameLength + 16);
    }

    static byte[] encodeResponse(long[] gsns) {
        ByteBuffer b = ByteBuffer.allocate(1 + gsns.length * 8);
        b.put(APPLIED);
        for (long g : gsns) {
            b.putLong(g);
        }
        return b.array();
    }

    static byte[] encodeOutOfOrder(long expectedBatch) {
        return ByteBuffer.allocate(9).put(OUT_OF_ORDER).putLong(expectedBatch).array();
    }

    /** Decodes a response to an entry of {@code records} records; null if it is not one (e.g. no state machine ran). */
    static Response decodeResponse(byte[] buf, int records) {
        if (buf == null || buf.length < 1) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(buf);
        byte status = b.get();
        if (status == OUT_OF_ORDER && buf.length == 9) {
            return new Response(status, new long[0], b.getLong());
        }
        if (status != APPLIED || buf.length != 1 + records * 8) {
            return null;
        }
        long[] gsns = new long[records];
        for (int i = 0; i < gsns.length; i++) {
            gsns[i] = b.getLong();
        }
        return new Response(status, gsns, 0);
    }
}
