package io.chorus.changeset.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Op;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Kryo serializers of the changeset and its change types. Each one is bound to the {@link WireContext} of its Kryo
 * instance, which holds the frame's relation tables. Registration ids are fixed in {@link WireCodec}.
 */
final class ChangeSerializers {
    private ChangeSerializers() {
    }

    /** A serializer bound to the context of the one Kryo instance it is registered with. */
    private abstract static class Bound<T> extends Serializer<T> {
        final WireContext ctx;

        Bound(WireContext ctx) {
            this.ctx = ctx;
        }
    }

    /** gtid, xid, commit time (seconds + nanos: exact), deps, then each change with its class id. */
    static final class ChangeSetSerializer extends Bound<ChangeSet> {
        ChangeSetSerializer(WireContext ctx) {
            super(ctx);
        }

        @Override
        public void write(Kryo kryo, Output out, ChangeSet cs) {
            WireContext.writeText(out, cs.gtid().origin().value());
            out.writeLong(cs.gtid().commitLsn().value());
            out.writeVarLong(cs.xid(), true);
            out.writeVarLong(cs.commitTime().getEpochSecond(), false);
            out.writeVarInt(cs.commitTime().getNano(), true);
            out.writeVarLong(cs.deps().value(), true);
            out.writeVarInt(cs.changes().size(), true);
            for (Change c : cs.changes()) {
                kryo.writeClassAndObject(out, c);
            }
        }

        @Override
        public ChangeSet read(Kryo kryo, Input in, Class<? extends ChangeSet> type) {
            int index = ctx.changeSet();
            ctx.at(index, -1, "changeset header");
            Gtid gtid = new Gtid(NodeId.of(WireContext.readText(in, "origin node id")), Lsn.of(in.readLong()));
            long xid = in.readVarLong(true);
            long seconds = in.readVarLong(false);
            int nanos = in.readVarInt(true);
            if (nanos < 0 || nanos > 999_999_999) {
                throw new IllegalArgumentException("commit time nanoseconds " + nanos + " out of range");
            }
            Instant commitTime = Instant.ofEpochSecond(seconds, nanos);
            Gsn deps = Gsn.of(in.readVarLong(true));
            int count = WireContext.readCount(in, "change");
            List<Change> changes = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                ctx.at(index, i, "change type");
                Object c = kryo.readClassAndObject(in);
                if (!(c instanceof Change change)) {
                    throw new IllegalArgumentException("expected a change, found " + c);
                }
                changes.add(change);
            }
            return new ChangeSet(gtid, xid, commitTime, deps, changes);
        }
    }

    /** relation reference, op, flags, new tuple, old tuple, keys. */
    static final class RowChangeSerializer extends Bound<RowChange> {
        RowChangeSerializer(WireContext ctx) {
            super(ctx);
        }

        @Override
        public void write(Kryo kryo, Output out, RowChange rc) {
            Parts.writeRelation(ctx, out, rc.relation());
            out.writeByte(opCode(rc.op()));
            out.writeBoolean(rc.oldIsKeyOnly());
            Parts.writeTuple(out, rc.newTuple());
            Parts.writeTuple(out, rc.oldTuple());
            Parts.writeKeys(ctx, out, rc.keys());
        }

        @Override
        public RowChange read(Kryo kryo, Input in, Class<? extends RowChange> type) {
            ctx.part("row change relation");
            var relation = Parts.readRelation(ctx, in);
            ctx.part("row change", relation.name());
            Op op = opOf(in.readByte());
            boolean oldIsKeyOnly = in.readBoolean();
            ctx.part("new tuple", relation.name());
            var newTuple = Parts.readTuple(in);
            ctx.part("old tuple", relation.name());
            var oldTuple = Parts.readTuple(in);
            ctx.part("keys", relation.name());
            return new RowChange(relation, op, newTuple, oldTuple, oldIsKeyOnly, Parts.readKeys(ctx, in));
        }

        private static byte opCode(Op op) {
            return switch (op) {
                case INSERT -> 'I';
                case UPDATE -> 'U';
                case DELETE -> 'D';
            };
        }

        private static Op opOf(byte code) {
            return switch (code) {
                case 'I' -> Op.INSERT;
                case 'U' -> Op.UPDATE;
                case 'D' -> Op.DELETE;
                default -> throw new IllegalArgumentException("unknown operation code " + code);
            };
        }
    }

    /** relation name references, cascade, restart identity. */
    static final class TruncateSerializer extends Bound<TruncateChange> {
        TruncateSerializer(WireContext ctx) {
            super(ctx);
        }

        @Override
        public void write(Kryo kryo, Output out, TruncateChange t) {
            out.writeVarInt(t.relations().size(), true);
            for (RelationName name : t.relations()) {
                Parts.writeName(ctx, out, name);
            }
            out.writeBoolean(t.cascade());
            out.writeBoolean(t.restartIdentity());
        }

        @Override
        public TruncateChange read(Kryo kryo, Input in, Class<? extends TruncateChange> type) {
            ctx.part("truncate");
            int count = WireContext.readCount(in, "truncated relation");
            List<RelationName> names = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                names.add(Parts.readName(ctx, in));
            }
            return new TruncateChange(names, in.readBoolean(), in.readBoolean());
        }
    }

    /** prefix, content length, content. */
    static final class MessageSerializer extends Bound<MessageChange> {
        MessageSerializer(WireContext ctx) {
            super(ctx);
        }

        @Override
        public void write(Kryo kryo, Output out, MessageChange m) {
            WireContext.writeText(out, m.prefix());
            byte[] content = m.content();
            out.writeVarInt(content.length, true);
            out.writeBytes(content);
        }

        @Override
        public MessageChange read(Kryo kryo, Input in, Class<? extends MessageChange> type) {
            ctx.part("logical message");
            String prefix = WireContext.readText(in, "message prefix");
            int length = WireContext.readCount(in, "message content byte");
            return new MessageChange(prefix, in.readBytes(length));
        }
    }
}
