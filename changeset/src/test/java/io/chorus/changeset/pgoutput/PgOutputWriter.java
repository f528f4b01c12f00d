package io.chorus.changeset.pgoutput;

import io.chorus.changeset.Column;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.Tuple;
import io.chorus.changeset.pgoutput.PgOutputMessage.Begin;
import io.chorus.changeset.pgoutput.PgOutputMessage.Commit;
import io.chorus.changeset.pgoutput.PgOutputMessage.Delete;
import io.chorus.changeset.pgoutput.PgOutputMessage.Insert;
import io.chorus.changeset.pgoutput.PgOutputMessage.LogicalMessage;
import io.chorus.changeset.pgoutput.PgOutputMessage.Origin;
import io.chorus.changeset.pgoutput.PgOutputMessage.RelationMessage;
import io.chorus.changeset.pgoutput.PgOutputMessage.Truncate;
import io.chorus.changeset.pgoutput.PgOutputMessage.TypeMessage;
import io.chorus.changeset.pgoutput.PgOutputMessage.Update;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/** Encodes protocol-1 messages back to pgoutput bytes: the inverse of the parser, for round-trip checks. */
final class PgOutputWriter {
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final DataOutputStream out = new DataOutputStream(bytes);

    static byte[] encode(PgOutputMessage m) {
        PgOutputWriter w = new PgOutputWriter();
        try {
            w.write(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.bytes.toByteArray();
    }

    private void write(PgOutputMessage m) throws IOException {
        out.writeByte(m.type());
        switch (m.type()) {
            case 'B' -> {
                Begin b = (Begin) m;
                lsn(b.finalLsn());
                time(b.commitTime());
                out.writeInt((int) b.xid());
            }
            case 'C' -> {
                Commit c = (Commit) m;
                out.writeByte(c.flags());
                lsn(c.commitLsn());
                lsn(c.endLsn());
                time(c.commitTime());
            }
            case 'O' -> {
                Origin o = (Origin) m;
                lsn(o.originLsn());
                cstring(o.name());
            }
            case 'R' -> relation((RelationMessage) m);
            case 'Y' -> {
                TypeMessage t = (TypeMessage) m;
                out.writeInt(t.oid());
                cstring(t.namespace());
                cstring(t.name());
            }
            case 'I' -> {
                Insert i = (Insert) m;
                out.writeInt(i.relationOid());
                out.writeByte('N');
                tuple(i.newTuple());
            }
            case 'U' -> update((Update) m);
            case 'D' -> {
                Delete d = (Delete) m;
                out.writeInt(d.relationOid());
                out.writeByte(d.oldKind().marker());
                tuple(d.oldTuple());
            }
            case 'T' -> {
                Truncate t = (Truncate) m;
                out.writeInt(t.relationOids().length);
                out.writeByte(t.options());
                for (int oid : t.relationOids()) {
                    out.writeInt(oid);
                }
            }
            case 'M' -> {
                LogicalMessage lm = (LogicalMessage) m;
                out.writeByte(lm.transactional() ? 1 : 0);
                lsn(lm.lsn());
                cstring(lm.prefix());
                out.writeInt(lm.content().length);
                out.write(lm.content());
            }
            default -> throw new IllegalArgumentException("not a protocol 1 message: " + m);
        }
    }

    private void relation(RelationMessage r) throws IOException {
        out.writeInt(r.oid());
        cstring(r.namespace());
        cstring(r.name());
        out.writeByte(r.replicaIdentity());
        out.writeShort(r.columns().size());
        for (Column c : r.columns()) {
            out.writeByte(c.key() ? 1 : 0);
            cstring(c.name());
            out.writeInt(c.typeOid());
            out.writeInt(c.typeModifier());
        }
    }

    private void update(Update u) throws IOException {
        out.writeInt(u.relationOid());
        if (u.oldKind() != null) {
            out.writeByte(u.oldKind().marker());
            tuple(u.oldTuple());
        }
        out.writeByte('N');
        tuple(u.newTuple());
    }

    private void tuple(Tuple t) throws IOException {
        out.writeShort(t.size());
        for (int i = 0; i < t.size(); i++) {
            switch (t.state(i)) {
                case NULL -> out.writeByte('n');
                case UNCHANGED -> out.writeByte('u');
                case TEXT -> {
                    byte[] b = t.text(i).getBytes(StandardCharsets.UTF_8);
                    out.writeByte('t');
                    out.writeInt(b.length);
                    out.write(b);
                }
            }
        }
    }

    private void lsn(Lsn l) throws IOException {
        out.writeLong(l.value());
    }

    private void time(Instant t) throws IOException {
        out.writeLong(ByteCursor.toPgMicros(t));
    }

    private void cstring(String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
        out.writeByte(0);
    }
}
