package io.chorus.changeset.wire;

import io.chorus.changeset.Canonical;

import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.chorus.changeset.Column;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.Tuple;

import java.util.ArrayList;
import java.util.List;

/** Wire layout of the parts changes are made of: relation names, relations, tuples and keys. */
final class Parts {
    private static final byte NULL = 'n';
    private static final byte UNCHANGED = 'u';
    private static final byte TEXT = 't';

    /** Relation and index names, shared across frames: every key of every changeset repeats them. */
    private static final Canonical<RelationName> NAMES = new Canonical<>(100_000);
    private static final Canonical<String> INDEXES = new Canonical<>(100_000);

    private Parts() {
    }

    static void writeName(WireContext ctx, Output out, RelationName name) {
        ctx.names.write(out, name, (o, n) -> {
            WireContext.writeText(o, n.schema());
            WireContext.writeText(o, n.table());
        });
    }

    static RelationName readName(WireContext ctx, Input in) {
        return ctx.names.read(in, i -> NAMES.of(new RelationName(WireContext.readText(i, "schema name"),
                WireContext.readText(i, "table name"))));
    }

    /**
     * A relation reference: varint 0 then its version id (8 bytes) the first time the frame names the version, varint
     * n &gt; 0 for the (n-1)-th version the frame named before. A first reference to a version the catalog lacks adds its
     * definition to the frame's section.
     */
    static void writeRelation(WireContext ctx, Output out, Relation relation) {
        Integer index = ctx.frameInstance.get(relation);
        if (index == null) {
            index = ctx.frameIndex.get(relation);
            if (index != null) {
                ctx.frameInstance.put(relation, index);
            }
        }
        if (index != null) {
            out.writeVarInt(index + 1, true);
            return;
        }
        RelationVersion v = ctx.versions.of(relation);
        out.writeVarInt(0, true);
        out.writeLong(v.id());
        index = ctx.frameRelations.size();
        ctx.frameRelations.add(relation);
        ctx.frameIndex.put(relation, index);
        ctx.frameInstance.put(relation, index);
        if (!ctx.carried.containsKey(v.id()) && ctx.catalog.definition(v.id()) == null) {
            ctx.carried.put(v.id(), v.definition());
        }
    }

    static Relation readRelation(WireContext ctx, Input in) {
        int ref = in.readVarInt(true);
        if (ref > 0) {
            if (ref > ctx.frameRelations.size()) {
                throw new IllegalArgumentException("relation reference " + ref + " but only "
                        + ctx.frameRelations.size() + " relation versions precede it in this frame");
            }
            return ctx.frameRelations.get(ref - 1);
        }
        if (ref < 0) {
            throw new IllegalArgumentException("negative relation reference " + ref);
        }
        long id = in.readLong();
        Relation relation = ctx.versions.resolve(id, ctx.section, ctx.catalog);
        ctx.frameRelations.add(relation);
        return relation;
    }

    /** A nullable tuple: a presence flag, the column count, then per column a state byte and the text if any. */
    static void writeTuple(Output out, Tuple tuple) {
        out.writeBoolean(tuple != null);
        if (tuple == null) {
            return;
        }
        out.writeVarInt(tuple.size(), true);
        for (int c = 0; c < tuple.size(); c++) {
            switch (tuple.state(c)) {
                case NULL -> out.writeByte(NULL);
                case UNCHANGED -> out.writeByte(UNCHANGED);
                case TEXT -> {
                    out.writeByte(TEXT);
                    WireContext.writeText(out, tuple.text(c));
                }
            }
        }
    }

    static Tuple readTuple(Input in) {
        if (!in.readBoolean()) {
            return null;
        }
        int size = WireContext.readCount(in, "tuple column");
        Tuple.Builder b = Tuple.builder(size);
        for (int c = 0; c < size; c++) {
            byte state = in.readByte();
            switch (state) {
                case NULL -> b.setNull(c);
                case UNCHANGED -> b.setUnchanged(c);
                case TEXT -> b.setText(c, WireContext.readText(in, "column text"));
                default -> throw new IllegalArgumentException("unknown state byte " + state + " of column " + c);
            }
        }
        return b.build();
    }

    static void writeKeys(WireContext ctx, Output out, List<Key> keys) {
        out.writeVarInt(keys.size(), true);
        for (Key k : keys) {
            out.writeByte(kindCode(k.kind()));
            writeName(ctx, out, k.relation());
            WireContext.writeText(out, k.index());
            out.writeVarInt(k.values().size(), true);
            for (String v : k.values()) {
                WireContext.writeText(out, v);
            }
        }
    }

    static List<Key> readKeys(WireContext ctx, Input in) {
        int count = WireContext.readCount(in, "key");
        List<Key> keys = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            KeyKind kind = kindOf(in.readByte());
            RelationName relation = readName(ctx, in);
            String index = INDEXES.of(WireContext.readText(in, "key index name"));
            int valueCount = WireContext.readCount(in, "key value");
            List<String> values = new ArrayList<>(valueCount);
            for (int v = 0; v < valueCount; v++) {
                values.add(WireContext.readText(in, "key value"));
            }
            keys.add(new Key(kind, relation, index, values));
        }
        return keys;
    }

    /** Key kinds have fixed codes on the wire, independent of the enum's declaration order. */
    private static byte kindCode(KeyKind kind) {
        return switch (kind) {
            case WRITE -> 'W';
            case DELETE -> 'D';
            case REFERENCE -> 'R';
            case TABLE -> 'T';
        };
    }

    private static KeyKind kindOf(byte code) {
        return switch (code) {
            case 'W' -> KeyKind.WRITE;
            case 'D' -> KeyKind.DELETE;
            case 'R' -> KeyKind.REFERENCE;
            case 'T' -> KeyKind.TABLE;
            default -> throw new IllegalArgumentException("unknown key kind code " + code);
        };
    }
}
