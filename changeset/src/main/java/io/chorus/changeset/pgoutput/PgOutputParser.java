package io.chorus.changeset.pgoutput;

import io.chorus.changeset.Column;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.Tuple;
import io.chorus.changeset.pgoutput.PgOutputMessage.Begin;
import io.chorus.changeset.pgoutput.PgOutputMessage.Commit;
import io.chorus.changeset.pgoutput.PgOutputMessage.Delete;
import io.chorus.changeset.pgoutput.PgOutputMessage.Insert;
import io.chorus.changeset.pgoutput.PgOutputMessage.LogicalMessage;
import io.chorus.changeset.pgoutput.PgOutputMessage.OldTupleKind;
import io.chorus.changeset.pgoutput.PgOutputMessage.Origin;
import io.chorus.changeset.pgoutput.PgOutputMessage.RelationMessage;
import io.chorus.changeset.pgoutput.PgOutputMessage.StreamAbort;
import io.chorus.changeset.pgoutput.PgOutputMessage.StreamCommit;
import io.chorus.changeset.pgoutput.PgOutputMessage.StreamStart;
import io.chorus.changeset.pgoutput.PgOutputMessage.StreamStop;
import io.chorus.changeset.pgoutput.PgOutputMessage.Truncate;
import io.chorus.changeset.pgoutput.PgOutputMessage.TypeMessage;
import io.chorus.changeset.pgoutput.PgOutputMessage.Update;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Decodes the payload of one XLogData message of a pgoutput stream (protocol versions 1 and 2) into a
 * {@link PgOutputMessage}. The grammar of each message is written above the method that reads it; Int8/16/32/64 are
 * big-endian, String is NUL-terminated UTF-8. Parsing is strict: the whole payload must be consumed, flags must be in
 * range and text must be valid UTF-8, so malformed bytes raise {@link PgOutputFormatException} (type and offset) and
 * never yield a wrong message.
 *
 * <p>Stateful only in one respect: with protocol 2, messages between Stream Start and Stream Stop carry an xid. Not
 * thread-safe; one parser per stream, fed in stream order.
 */
public final class PgOutputParser {
    private static final int COLUMN_FLAG_KEY = 1;

    private final int protocolVersion;
    private boolean inStreamBlock;

    /** A parser for {@code proto_version} 1 or 2 (the version requested in START_REPLICATION). */
    public PgOutputParser(int protocolVersion) {
        if (protocolVersion < 1 || protocolVersion > 2) {
            throw new IllegalArgumentException("pgoutput protocol version " + protocolVersion
                    + " is not supported; request proto_version 1 (or 2)");
        }
        this.protocolVersion = protocolVersion;
    }

    public int protocolVersion() {
        return protocolVersion;
    }

    /** Forgets stream-block state, e.g. after a reconnect. */
    public void reset() {
        inStreamBlock = false;
    }

    /**
     * Parses one message. The buffer's position advances to its limit on success.
     *
     * @throws PgOutputFormatException when the bytes are not exactly one well-formed message
     */
    /** Whether {@code payload} (not consumed) is an Insert, Update or Delete message. */
    public static boolean isRowChange(ByteBuffer payload) {
        if (!payload.hasRemaining()) {
            return false;
        }
        byte type = payload.get(payload.position());
        return type == 'I' || type == 'U' || type == 'D';
    }

    public PgOutputMessage parse(ByteBuffer payload) {
        ByteCursor in = new ByteCursor(payload);
        if (!in.hasRemaining()) {
            throw in.error("empty message");
        }
        char type = (char) (in.int8("message type") & 0xff);
        in.type(type);
        PgOutputMessage m = switch (type) {
            case 'B' -> begin(in);
            case 'C' -> commit(in);
            case 'O' -> origin(in);
            case 'R' -> relation(in);
            case 'Y' -> typeMessage(in);
            case 'I' -> insert(in);
            case 'U' -> update(in);
            case 'D' -> delete(in);
            case 'T' -> truncate(in);
            case 'M' -> message(in);
            case 'S', 'E', 'c', 'A' -> streaming(type, in);
            default -> throw in.error("unknown message type (two-phase messages are never requested)");
        };
        in.end();
        payload.position(payload.limit());
        return m;
    }

    // Begin: Byte1('B') Int64 final LSN (of the commit record), Int64 commit timestamp, Int32 xid
    private static Begin begin(ByteCursor in) {
        return new Begin(Lsn.of(in.int64("final LSN")), in.timestamp("commit timestamp"), in.uint32("xid"));
    }

    // Commit: Byte1('C') Int8 flags (0), Int64 commit LSN, Int64 end LSN, Int64 commit timestamp
    private static Commit commit(ByteCursor in) {
        int flags = in.flags("flags", 0);
        return new Commit(flags, Lsn.of(in.int64("commit LSN")), Lsn.of(in.int64("end LSN")), in.timestamp("commit timestamp"));
    }

    // Origin: Byte1('O') Int64 commit LSN on the origin, String origin name
    private static Origin origin(ByteCursor in) {
        return new Origin(Lsn.of(in.int64("origin LSN")), in.cstring("origin name"));
    }

    // Relation: Byte1('R') [Int32 xid] Int32 oid, String namespace ("" = pg_catalog), String name,
    //   Int8 replica identity (d, n, f, i), Int16 column count, then per column:
    //   Int8 flags (1 = part of the key), String name, Int32 type oid, Int32 type modifier
    private RelationMessage relation(ByteCursor in) {
        long xid = xid(in);
        int oid = in.int32("relation oid");
        String namespace = in.cstring("namespace");
        String name = in.cstring("relation name");
        int at = in.offset();
        char ident = (char) in.int8("replica identity");
        if ("dnfi".indexOf(ident) < 0) {
            throw in.errorAt(at, "replica identity '" + ident + "' is not one of d, n, f, i");
        }
        int count = in.uint16("column count");
        List<Column> columns = new ArrayList<>(Math.min(count, 1664));
        for (int i = 0; i < count; i++) {
            boolean key = in.flags("column " + i + " flags", COLUMN_FLAG_KEY) == COLUMN_FLAG_KEY;
            String column = in.cstring("column " + i + " name");
            columns.add(new Column(column, key, in.int32("column " + i + " type oid"), in.int32("column " + i + " type modifier")));
        }
        return new RelationMessage(xid, oid, namespace, name, ident, columns);
    }

    // Type: Byte1('Y') [Int32 xid] Int32 type oid, String namespace ("" = pg_catalog), String type name
    private TypeMessage typeMessage(ByteCursor in) {
        return new TypeMessage(xid(in), in.int32("type oid"), in.cstring("namespace"), in.cstring("type name"));
    }

    // Insert: Byte1('I') [Int32 xid] Int32 relation oid, Byte1('N'), TupleData
    private Insert insert(ByteCursor in) {
        long xid = xid(in);
        int oid = in.int32("relation oid");
        expectMarker(in, 'N', "new tuple marker");
        return new Insert(xid, oid, tuple(in));
    }

    // Update: Byte1('U') [Int32 xid] Int32 relation oid,
    //   optionally Byte1('K') TupleData (old key: the identity changed) or Byte1('O') TupleData (REPLICA IDENTITY FULL),
    //   then Byte1('N') TupleData (new row)
    private Update update(ByteCursor in) {
        long xid = xid(in);
        int oid = in.int32("relation oid");
        int at = in.offset();
        char marker = (char) in.int8("tuple marker");
        OldTupleKind kind = null;
        Tuple old = null;
        if (marker == 'K' || marker == 'O') {
            kind = marker == 'K' ? OldTupleKind.KEY : OldTupleKind.FULL;
            old = tuple(in);
            at = in.offset();
            marker = (char) in.int8("new tuple marker");
        }
        if (marker != 'N') {
            throw in.errorAt(at, "tuple marker '" + marker + "' is not K, O or N");
        }
        return new Update(xid, oid, kind, old, tuple(in));
    }

    // Delete: Byte1('D') [Int32 xid] Int32 relation oid, Byte1('K') or Byte1('O'), TupleData (old key or old row)
    private Delete delete(ByteCursor in) {
        long xid = xid(in);
        int oid = in.int32("relation oid");
        int at = in.offset();
        char marker = (char) in.int8("old tuple marker");
        if (marker != 'K' && marker != 'O') {
            throw in.errorAt(at, "old tuple marker '" + marker + "' is not K or O");
        }
        return new Delete(xid, oid, marker == 'K' ? OldTupleKind.KEY : OldTupleKind.FULL, tuple(in));
    }

    // Truncate: Byte1('T') [Int32 xid] Int32 relation count, Int8 options (1 CASCADE | 2 RESTART IDENTITY),
    //   Int32 relation oid * count
    private Truncate truncate(ByteCursor in) {
        long xid = xid(in);
        int at = in.offset();
        int count = in.int32("relation count");
        if (count < 0 || count > (in.remaining() - 1) / 4) {
            throw in.errorAt(at, "relation count " + count + " is negative or exceeds the bytes left");
        }
        int options = in.flags("options", Truncate.CASCADE | Truncate.RESTART_IDENTITY);
        int[] oids = new int[count];
        for (int i = 0; i < count; i++) {
            oids[i] = in.int32("relation oid " + i);
        }
        return new Truncate(xid, options, oids);
    }

    // Message: Byte1('M') [Int32 xid] Int8 flags (1 = transactional), Int64 LSN, String prefix, Int32 length, Byte[length]
    private LogicalMessage message(ByteCursor in) {
        long xid = xid(in);
        boolean transactional = in.flags("flags", 1) == 1;
        Lsn lsn = Lsn.of(in.int64("message LSN"));
        String prefix = in.cstring("prefix");
        int n = in.length("content");
        return new LogicalMessage(xid, transactional, lsn, prefix, in.bytes(n, "content"));
    }

    // Stream Start: Byte1('S') Int32 xid, Int8 first segment (0/1)
    // Stream Stop:  Byte1('E')
    // Stream Commit: Byte1('c') Int32 xid, Int8 flags (0), Int64 commit LSN, Int64 end LSN, Int64 commit timestamp
    // Stream Abort: Byte1('A') Int32 xid, Int32 subtransaction xid
    private PgOutputMessage streaming(char type, ByteCursor in) {
        if (protocolVersion < 2) {
            throw in.error("streaming message in protocol version 1 (streaming was not requested)");
        }
        switch (type) {
            case 'S' -> {
                StreamStart s = new StreamStart(in.uint32("xid"), in.flags("first segment", 1) == 1);
                inStreamBlock = true;
                return s;
            }
            case 'E' -> {
                inStreamBlock = false;
                return new StreamStop();
            }
            case 'c' -> {
                long xid = in.uint32("xid");
                int flags = in.flags("flags", 0);
                return new StreamCommit(xid, flags, Lsn.of(in.int64("commit LSN")), Lsn.of(in.int64("end LSN")),
                        in.timestamp("commit timestamp"));
            }
            default -> {
                return new StreamAbort(in.uint32("xid"), in.uint32("subtransaction xid"));
            }
        }
    }

    // TupleData: Int16 column count, then per column one of
    //   Byte1('n') NULL | Byte1('u') unchanged TOAST (value not sent) | Byte1('t') Int32 length, Byte[length] text
    //   | Byte1('b') Int32 length, Byte[length] binary (refused: we request text)
    private static Tuple tuple(ByteCursor in) {
        int count = in.uint16("tuple column count");
        Tuple.Builder b = Tuple.builder(count);
        for (int i = 0; i < count; i++) {
            in.column(i);
            int at = in.offset();
            char kind = (char) in.int8("kind");
            switch (kind) {
                case 'n' -> b.setNull(i);
                case 'u' -> b.setUnchanged(i);
                case 't' -> b.setText(i, in.text(in.length("value"), "value"));
                case 'b' -> throw in.errorAt(at, "is in binary format; Chorus decodes text only: start the slot without the binary option");
                default -> throw in.errorAt(at, "kind '" + kind + "' is not n, u, t or b");
            }
        }
        in.column(-1);
        return b.build();
    }

    private long xid(ByteCursor in) {
        return inStreamBlock ? in.uint32("xid") : PgOutputMessage.NO_XID;
    }

    private static void expectMarker(ByteCursor in, char expected, String field) {
        int at = in.offset();
        char marker = (char) in.int8(field);
        if (marker != expected) {
            throw in.errorAt(at, field + " is '" + marker + "', expected '" + expected + "'");
        }
    }
}
