package io.chorus.changeset.pgoutput;

import io.chorus.changeset.Column;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.Tuple;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One pgoutput message, as {@link PgOutputParser} decodes it. Field names follow PostgreSQL's "Logical Replication
 * Message Formats". {@code xid} is present on the wire only inside a streamed block (protocol 2+); elsewhere it is
 * {@link #NO_XID}. Tuples are in text form; see {@link Tuple} for NULL versus unchanged TOAST.
 */
public sealed interface PgOutputMessage {
    /** InvalidTransactionId: the message carried no xid. */
    long NO_XID = 0;

    /** The message type byte. */
    char type();

    /** How an UPDATE or DELETE identifies the old row: 'K' = old key columns only, 'O' = the full old row. */
    enum OldTupleKind {
        /** 'K': the replica-identity columns (other columns are sent as NULL). */
        KEY('K'),
        /** 'O': every column of the old row (REPLICA IDENTITY FULL). */
        FULL('O');

        private final char marker;

        OldTupleKind(char marker) {
            this.marker = marker;
        }

        public char marker() {
            return marker;
        }
    }

    /** 'B': a transaction starts; its commit record will be at {@code finalLsn}. */
    record Begin(Lsn finalLsn, Instant commitTime, long xid) implements PgOutputMessage {
        public char type() {
            return 'B';
        }
    }

    /** 'C': the transaction committed at {@code commitLsn}; its commit record ends at {@code endLsn}. */
    record Commit(int flags, Lsn commitLsn, Lsn endLsn, Instant commitTime) implements PgOutputMessage {
        public char type() {
            return 'C';
        }
    }

    /** 'O': the transaction was replayed from replication origin {@code name}, where it committed at {@code originLsn}. */
    record Origin(Lsn originLsn, String name) implements PgOutputMessage {
        public Origin {
            Objects.requireNonNull(name, "name");
        }

        public char type() {
            return 'O';
        }
    }

    /** 'R': the layout of a table; sent before the first change to it in a session and after it changes. */
    record RelationMessage(long xid, int oid, String namespace, String name, char replicaIdentity, List<Column> columns)
            implements PgOutputMessage {
        public RelationMessage {
            columns = List.copyOf(columns);
        }

        public char type() {
            return 'R';
        }
    }

    /** 'Y': a non-built-in type used by a published column. */
    record TypeMessage(long xid, int oid, String namespace, String name) implements PgOutputMessage {
        public char type() {
            return 'Y';
        }
    }

    /** 'I': a row inserted into relation {@code relationOid}. */
    record Insert(long xid, int relationOid, Tuple newTuple) implements PgOutputMessage {
        public char type() {
            return 'I';
        }
    }

    /** 'U': a row updated; {@code oldKind} and {@code oldTuple} are null when the server sent no old tuple. */
    record Update(long xid, int relationOid, OldTupleKind oldKind, Tuple oldTuple, Tuple newTuple) implements PgOutputMessage {
        public char type() {
            return 'U';
        }
    }

    /** 'D': a row deleted, identified by its old key ('K') or full old row ('O'). */
    record Delete(long xid, int relationOid, OldTupleKind oldKind, Tuple oldTuple) implements PgOutputMessage {
        public char type() {
            return 'D';
        }
    }

    /** 'T': TRUNCATE of several relations; options bit 1 = CASCADE, bit 2 = RESTART IDENTITY. */
    record Truncate(long xid, int options, int[] relationOids) implements PgOutputMessage {
        public static final int CASCADE = 1;
        public static final int RESTART_IDENTITY = 2;

        public Truncate {
            relationOids = relationOids.clone();
        }

        @Override
        public int[] relationOids() {
            return relationOids.clone();
        }

        public char type() {
            return 'T';
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Truncate t && t.xid == xid && t.options == options && Arrays.equals(t.relationOids, relationOids);
        }

        @Override
        public int hashCode() {
            return Objects.hash(xid, options, Arrays.hashCode(relationOids));
        }

        @Override
        public String toString() {
            return "Truncate[xid=" + xid + ", options=" + options + ", relationOids=" + Arrays.toString(relationOids) + "]";
        }
    }

    /** 'M': a logical message (pg_logical_emit_message); {@code transactional} ones belong to the enclosing transaction. */
    record LogicalMessage(long xid, boolean transactional, Lsn lsn, String prefix, byte[] content) implements PgOutputMessage {
        public LogicalMessage {
            content = content.clone();
        }

        @Override
        public byte[] content() {
            return content.clone();
        }

        public char type() {
            return 'M';
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LogicalMessage m && m.xid == xid && m.transactional == transactional && m.lsn.equals(lsn)
                    && m.prefix.equals(prefix) && Arrays.equals(m.content, content);
        }

        @Override
        public int hashCode() {
            return Objects.hash(xid, transactional, lsn, prefix, Arrays.hashCode(content));
        }

        @Override
        public String toString() {
            return "LogicalMessage[xid=" + xid + ", transactional=" + transactional + ", lsn=" + lsn + ", prefix=" + prefix
                    + ", " + content.length + " bytes]";
        }
    }

    /** 'S' (protocol 2+): a block of a large in-progress transaction starts; {@code first} marks its first block. */
    record StreamStart(long xid, boolean first) implements PgOutputMessage {
        public char type() {
            return 'S';
        }
    }

    /** 'E' (protocol 2+): the current streamed block ends. */
    record StreamStop() implements PgOutputMessage {
        public char type() {
            return 'E';
        }
    }

    /** 'c' (protocol 2+): a streamed transaction committed. */
    record StreamCommit(long xid, int flags, Lsn commitLsn, Lsn endLsn, Instant commitTime) implements PgOutputMessage {
        public char type() {
            return 'c';
        }
    }

    /** 'A' (protocol 2+): a streamed (sub)transaction aborted; {@code subXid == xid} for the top-level one. */
    record StreamAbort(long xid, long subXid) implements PgOutputMessage {
        public char type() {
            return 'A';
        }
    }

    /** A readable name of a message type byte, for error messages. */
    static String typeName(char type) {
        return switch (type) {
            case 'B' -> "Begin";
            case 'C' -> "Commit";
            case 'O' -> "Origin";
            case 'R' -> "Relation";
            case 'Y' -> "Type";
            case 'I' -> "Insert";
            case 'U' -> "Update";
            case 'D' -> "Delete";
            case 'T' -> "Truncate";
            case 'M' -> "Message";
            case 'S' -> "Stream Start";
            case 'E' -> "Stream Stop";
            case 'c' -> "Stream Commit";
            case 'A' -> "Stream Abort";
            case 'b', 'P', 'K', 'r', 'p' -> "two-phase (protocol 3)";
            default -> "unknown";
        };
    }
}
