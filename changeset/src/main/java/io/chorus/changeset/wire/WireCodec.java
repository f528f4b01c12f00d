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

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

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
    /** The only format version this release reads and writes. */
    public static final int FORMAT_VERSION = 1;

    static final int ID_CHANGE_SET = 100;
    static final int ID_ROW_CHANGE = 101;
    static final int ID_TRUNCATE = 102;
    static final int ID_MESSAGE = 103;

    private static final int POOL_SIZE = 16;

    private final Pool<WireContext> pool = new Pool<>(true, false, POOL_SIZE) {
        @Override
        protected WireContext create() {
            return newContext();
        }
    };

    /** Encodes {@code batch} (possibly empty) into one frame. */
    public byte[] encode(List<ChangeSet> batch) {
        Objects.requireNonNull(batch, "batch");
        return encodeFrame(Frame.KIND_BATCH, (ctx, out) -> {
            out.writeVarInt(batch.size(), true);
            for (ChangeSet cs : batch) {
                ctx.kryo.writeObject(out, Objects.requireNonNull(cs, "changeset in batch"));
            }
        });
    }

    /**
     * Decodes a frame made by {@link #encode(List)}.
     *
     * @throws WireFormatException when the bytes are not exactly such a frame
     */
    public List<ChangeSet> decode(byte[] bytes) {
        return decodeFrame(Frame.KIND_BATCH, bytes, (ctx, in) -> {
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
        return encodeFrame(Frame.KIND_CHANGE, (ctx, out) -> ctx.kryo.writeClassAndObject(out, change));
    }

    /**
     * Decodes a frame made by {@link #encodeChange(Change)}.
     *
     * @throws WireFormatException when the bytes are not exactly such a frame
     */
    public Change decodeChange(byte[] bytes) {
        return decodeFrame(Frame.KIND_CHANGE, bytes, (ctx, in) -> {
            ctx.at(-1, 0, "change type");
            Object c = ctx.kryo.readClassAndObject(in);
            if (!(c instanceof Change change)) {
                throw new IllegalArgumentException("expected a change, found " + c);
            }
            return change;
        });
    }

    private byte[] encodeFrame(byte kind, BodyWriter body) {
        WireContext ctx = pool.obtain();
        try {
            ctx.startFrame();
            Output out = new Output(256, -1);
            out.setPosition(Frame.HEADER_SIZE);
            body.write(ctx, out);
            return Frame.seal(kind, out.toBytes());
        } finally {
            ctx.kryo.reset();
            pool.free(ctx);
        }
    }

    private <T> T decodeFrame(byte kind, byte[] bytes, BodyReader<T> body) {
        int bodyLength = Frame.open(kind, bytes);
        WireContext ctx = pool.obtain();
        Input in = new Input(bytes, Frame.HEADER_SIZE, bodyLength);
        try {
            ctx.startFrame();
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

    private static WireContext newContext() {
        Kryo kryo = new Kryo();
        kryo.setRegistrationRequired(true);
        kryo.setReferences(false);
        WireContext ctx = new WireContext(kryo);
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
