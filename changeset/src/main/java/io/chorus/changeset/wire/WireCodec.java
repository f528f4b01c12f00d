package io.chorus.changeset.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;

import io.chorus.changeset.Relation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Encodes changesets into the versioned, checksummed Chorus wire format and back (layout in {@link Frame} and the
 * package notes). A batch of changesets becomes one byte array: one replicated-log entry. A single {@link Change}
 * can be framed on its own, for spill files.
 *
 * <p>Thread-safe: Kryo instances are not, so each call borrows one from a bounded pool; every instance registers the
 * same classes under the same fixed ids. Calls never block other than on CPU.
 *
 * <p>Decoding either returns exactly what was encoded or throws {@link WireFormatException} naming what was being read
 * and at which byte offset: the header and a CRC32C over the body are checked before anything is decoded.
 */
public final class WireCodec {
    /** The only format version this release reads and writes (2: relation versions by content-addressed id). */
    public static final int FORMAT_VERSION = 2;

    static final int ID_CHANGE_SET = 100;
    static final int ID_ROW_CHANGE = 101;
    static final int ID_TRUNCATE = 102;
    static final int ID_MESSAGE = 103;

    private static final int POOL_SIZE = 16;
    /** A frame never carries more relation definitions than this (a changeset touching this many tables is absurd). */
    private static final int MAX_DEFINITIONS = 65_536;

    private final Versions versions = new Versions();
    private final RelationCatalog resolver;

    /** A codec whose {@link #decode(byte[])} resolves no version by id: frames must define what they name. */
    public WireCodec() {
        this(RelationCatalog.NONE);
    }

    /** A codec whose {@link #decode(byte[])} resolves versions a frame names by id alone in {@code resolver}. */
    public WireCodec(RelationCatalog resolver) {
        this.resolver = Objects.requireNonNull(resolver, "resolver");
    }

    private final Pool<WireContext> pool = new Pool<>(true, false, POOL_SIZE) {
        @Override
        protected WireContext create() {
            return newContext();
        }
    };

    /**
     * A frame and the relation definitions it carries because the catalog it was encoded against lacked them: the
     * caller hands those to the group with the frame, so that later frames can name them by id alone.
     */
    public record Encoded(byte[] frame, Map<Long, byte[]> definitions) {
    }

    /** Encodes {@code batch} (possibly empty) into one self-contained frame: it defines every relation it names. */
    public byte[] encode(List<ChangeSet> batch) {
        return encode(batch, RelationCatalog.NONE).frame();
    }

    /**
     * Encodes {@code batch} into one frame that names the versions {@code catalog} holds by id alone and carries the
     * definitions of the others. Only a catalog of versions committed in the log below where this frame will be may be
     * passed: the receiver resolves the ids from its own copy of that log.
     */
    public Encoded encode(List<ChangeSet> batch, RelationCatalog catalog) {
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(catalog, "catalog");
        return encodeFrame(Frame.KIND_BATCH, catalog, (ctx, out) -> {
            out.writeVarInt(batch.size(), true);
            for (ChangeSet cs : batch) {
                ctx.kryo.writeObject(out, Objects.requireNonNull(cs, "changeset in batch"));
            }
        });
    }

    /**
     * Decodes a frame made by {@link #encode(List)}, or by {@link #encode(List, RelationCatalog)} when this codec's
     * resolver holds the versions it names by id.
     *
     * @throws WireFormatException when the bytes are not exactly such a frame
     */
    public List<ChangeSet> decode(byte[] bytes) {
        return decode(bytes, resolver);
    }

    /**
     * Decodes a frame made by {@link #encode(List, RelationCatalog)}, resolving the ids it does not define in
     * {@code catalog}.
     *
     * @throws WireFormatException when the bytes are not exactly such a frame, or name a version neither the frame nor
     *                             the catalog defines
     */
    public List<ChangeSet> decode(byte[] bytes, RelationCatalog catalog) {
        Objects.requireNonNull(catalog, "catalog");
        return decodeFrame(Frame.KIND_BATCH, bytes, catalog, (ctx, in) -> {
            ctx.part("changeset count");
            int count = WireContext.readCount(in, "changeset");
            List<ChangeSet> batch = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                ctx.at(i, -1, "changeset header");
                batch.add(ctx.kryo.readObject(in, ChangeSet.class));
            }
            return List.copyOf(batch);
        });
    }

    /** Encodes one change into a self-contained frame (its relation written in full). */
    public byte[] encodeChange(Change change) {
        Objects.requireNonNull(change, "change");
        return encodeFrame(Frame.KIND_CHANGE, RelationCatalog.NONE, (ctx, out) -> ctx.kryo.writeClassAndObject(out, change))
                .frame();
    }

    /**
     * Decodes a frame made by {@link #encodeChange(Change)}.
     *
     * @throws WireFormatException when the bytes are not exactly such a frame
     */
    public Change decodeChange(byte[] bytes) {
        return decodeFrame(Frame.KIND_CHANGE, bytes, RelationCatalog.NONE, (ctx, in) -> {
            ctx.at(-1, 0, "change type");
            Object c = ctx.kryo.readClassAndObject(in);
            if (!(c instanceof Change change)) {
                throw new IllegalArgumentException("expected a change, found " + c);
            }
            return change;
        });
    }

    /**
     * Body layout: the definitions section (varint count, then per definition its id as 8 bytes, a varint length and
     * the bytes), then the kind's content. The section is known only once the content is written, so the content goes
     * to a scratch buffer first.
     */
    private Encoded encodeFrame(byte kind, RelationCatalog catalog, BodyWriter body) {
        WireContext ctx = pool.obtain();
        try {
            ctx.startFrame(catalog);
            Output content = new Output(256, -1);
            body.write(ctx, content);
            Output out = new Output(Frame.HEADER_SIZE + content.position() + 16, -1);
            out.setPosition(Frame.HEADER_SIZE);
            out.writeVarInt(ctx.carried.size(), true);
            for (Map.Entry<Long, byte[]> d : ctx.carried.entrySet()) {
                out.writeLong(d.getKey());
                out.writeVarInt(d.getValue().length, true);
                out.writeBytes(d.getValue());
            }
            out.writeBytes(content.getBuffer(), 0, content.position());
            Map<Long, byte[]> carried = ctx.carried.isEmpty() ? Map.of() : new LinkedHashMap<>(ctx.carried);
            return new Encoded(Frame.seal(kind, out.toBytes()), carried);
        } finally {
            ctx.kryo.reset();
            pool.free(ctx);
        }
    }

    private <T> T decodeFrame(byte kind, byte[] bytes, RelationCatalog catalog, BodyReader<T> body) {
        int bodyLength = Frame.open(kind, bytes);
        WireContext ctx = pool.obtain();
        Input in = new Input(bytes, Frame.HEADER_SIZE, bodyLength);
        try {
            ctx.startFrame(catalog);
            ctx.part("relation definitions");
            int count = WireContext.readCount(in, "relation definition");
            if (count > MAX_DEFINITIONS) {
                throw new IllegalArgumentException(count + " relation definitions in one frame (at most "
                        + MAX_DEFINITIONS + ")");
            }
            for (int i = 0; i < count; i++) {
                long id = in.readLong();
                int length = WireContext.readCount(in, "relation definition byte");
                ctx.section.put(id, in.readBytes(length));
            }
            T value = body.read(ctx, in);
            if (in.position() != bytes.length) {
                throw new IllegalArgumentException((bytes.length - in.position()) + " unread bytes after the last value");
            }
            return value;
        } catch (RuntimeException e) {
            throw new WireFormatException("cannot decode " + (kind == Frame.KIND_BATCH ? "changeset batch" : "change")
                    + ": " + e.getMessage() + " (while reading " + ctx.describe() + " at offset " + in.position()
                    + " of " + bytes.length + ")", e);
        } finally {
            ctx.kryo.reset();
            pool.free(ctx);
        }
    }

    /**
     * The relation versions a codec met, both ways: by relation when encoding (the canonical bytes and their hash are
     * computed once per version) and by id when decoding (a definition is parsed and checked once). Content-addressed,
     * so an entry is never stale; each map is dropped whole past {@value #MAX_CACHED} entries (only DDL makes new
     * versions). Thread-safe.
     */
    static final class Versions {
        private static final int MAX_CACHED = 4096;
        private final Map<Relation, RelationVersion> byRelation = new ConcurrentHashMap<>();
        private final Map<Long, Relation> byId = new ConcurrentHashMap<>();

        RelationVersion of(Relation relation) {
            RelationVersion v = byRelation.get(relation);
            if (v == null) {
                v = RelationVersion.of(relation);
                if (byRelation.size() >= MAX_CACHED) {
                    byRelation.clear();
                }
                byRelation.put(relation, v);
            }
            return v;
        }

        /** The relation of version {@code id}: from the cache, the frame's own definitions, or the catalog. */
        Relation resolve(long id, Map<Long, byte[]> section, RelationCatalog catalog) {
            Relation r = byId.get(id);
            if (r != null) {
                return r;
            }
            byte[] definition = section.get(id);
            if (definition == null) {
                definition = catalog.definition(id);
            }
            if (definition == null) {
                throw new IllegalArgumentException("relation version " + RelationVersion.hex(id) + " is neither "
                        + "defined in this frame nor in the catalog of versions committed in the group's log ("
                        + (catalog == RelationCatalog.NONE ? "none was given: the frame is not self-contained"
                        : "the catalog lacks it: this member's copy of the log misses the record that defined it")
                        + ")");
            }
            r = RelationVersion.parse(id, definition).relation();
            if (byId.size() >= MAX_CACHED) {
                byId.clear();
            }
            byId.put(id, r);
            return r;
        }
    }

    private WireContext newContext() {
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(true);
        kryo.setReferences(false);
        WireContext ctx = new WireContext(kryo, versions);
        kryo.register(ChangeSet.class, new ChangeSerializers.ChangeSetSerializer(ctx), ID_CHANGE_SET);
        kryo.register(RowChange.class, new ChangeSerializers.RowChangeSerializer(ctx), ID_ROW_CHANGE);
        kryo.register(TruncateChange.class, new ChangeSerializers.TruncateSerializer(ctx), ID_TRUNCATE);
        kryo.register(MessageChange.class, new ChangeSerializers.MessageSerializer(ctx), ID_MESSAGE);
        return ctx;
    }

    @FunctionalInterface
    private interface BodyWriter {
        void write(WireContext ctx, Output out);
    }

    @FunctionalInterface
    private interface BodyReader<T> {
        T read(WireContext ctx, Input in);
    }
}
