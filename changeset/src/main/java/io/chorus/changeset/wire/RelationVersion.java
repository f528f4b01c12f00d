package io.chorus.changeset.wire;

import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import io.chorus.changeset.Column;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

/**
 * One version of a relation (its name, replica identity, and per column the name, key flag, type oid and modifier) in
 * its canonical bytes, with its content-addressed id: the first 64 bits of SHA-256 over those bytes. Any two nodes
 * that see the same definition compute the same id without talking to each other, and an id read back is checked
 * against the bytes it names, so a definition can never be taken for another.
 *
 * <p>Immutable; the bytes are never handed out for writing.
 */
public record RelationVersion(long id, byte[] definition, Relation relation) {

    /** The version of {@code relation}: its canonical bytes and their id. */
    public static RelationVersion of(Relation relation) {
        Output out = new Output(64, -1);
        WireContext.writeText(out, relation.name().schema());
        WireContext.writeText(out, relation.name().table());
        out.writeVarInt(relation.replicaIdentity(), true);
        out.writeVarInt(relation.columnCount(), true);
        for (Column c : relation.columns()) {
            WireContext.writeText(out, c.name());
            out.writeBoolean(c.key());
            out.writeVarInt(c.typeOid(), false);
            out.writeVarInt(c.typeModifier(), false);
        }
        byte[] bytes = out.toBytes();
        return new RelationVersion(idOf(bytes), bytes, relation);
    }

    /**
     * Reads the definition {@code bytes} that a frame or a catalog gave for version {@code id}.
     *
     * @throws IllegalArgumentException when the bytes are not a definition, or are the definition of another id
     */
    public static RelationVersion parse(long id, byte[] bytes) {
        long actual = idOf(bytes);
        if (actual != id) {
            throw new IllegalArgumentException(String.format("relation version %s: its definition hashes to %s "
                    + "(corrupted or forged bytes)", hex(id), hex(actual)));
        }
        Input in = new Input(bytes);
        RelationName name = new RelationName(WireContext.readText(in, "schema name"),
                WireContext.readText(in, "table name"));
        int identity = in.readVarInt(true);
        if (identity < 0 || identity > Character.MAX_VALUE) {
            throw new IllegalArgumentException("replica identity " + identity + " is not a char");
        }
        int count = WireContext.readCount(in, "column");
        List<Column> columns = new ArrayList<>(count);
        for (int c = 0; c < count; c++) {
            columns.add(new Column(WireContext.readText(in, "column name"), in.readBoolean(), in.readVarInt(false),
                    in.readVarInt(false)));
        }
        if (in.position() != bytes.length) {
            throw new IllegalArgumentException((bytes.length - in.position()) + " unread bytes after the definition of "
                    + "relation version " + hex(id));
        }
        return new RelationVersion(id, bytes, new Relation(name, (char) identity, columns));
    }

    /** The id of a definition: the first 8 bytes of its SHA-256, big-endian. */
    public static long idOf(byte[] definition) {
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(definition);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
        long id = 0;
        for (int i = 0; i < 8; i++) {
            id = (id << 8) | (digest[i] & 0xFF);
        }
        return id;
    }

    /** An id as 16 hex digits, as logs and errors show it. */
    public static String hex(long id) {
        return String.format("%016x", id);
    }

    @Override
    public String toString() {
        return "relation version " + hex(id) + " of " + relation.name();
    }
}
