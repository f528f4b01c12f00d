package io.chorus.gcs;

import java.io.DataInput;
import java.io.DataOutput;
import java.util.function.Supplier;
import org.jgroups.Header;
import org.jgroups.conf.ClassConfigurator;

/**
 * Why a join was refused, as a code beside the refusal's text: sent by {@link JoinGuard} on a join rejection whose
 * reason the joiner acts on by itself ({@link GcsException.Kind#PAST_FORK}). Only such rejections carry it, so a
 * member of an older protocol version, which could not read it, still gets its version refusal. Immutable.
 */
public final class RefusalHeader extends Header {
    /** Magic number of this header class (custom numbers start at 1024). */
    static final short MAGIC = 1701;
    /** The joiner's log or database holds GSNs past a fork of the group's history, and the group is newer. */
    static final byte PAST_FORK = 1;

    static {
        ClassConfigurator.add(MAGIC, RefusalHeader.class);
    }

    private byte reason;

    /** For deserialization. */
    public RefusalHeader() {
    }

    RefusalHeader(byte reason) {
        this.reason = reason;
    }

    byte reason() {
        return reason;
    }

    /** Loads the class, so that its magic number is registered before a message carrying it is read. */
    static void register() {
        // the static initialiser did it
    }

    @Override
    public short getMagicId() {
        return MAGIC;
    }

    @Override
    public Supplier<? extends Header> create() {
        return RefusalHeader::new;
    }

    @Override
    public int serializedSize() {
        return 1;
    }

    @Override
    public void writeTo(DataOutput out) throws java.io.IOException {
        out.writeByte(reason);
    }

    @Override
    public void readFrom(DataInput in) throws java.io.IOException {
        reason = in.readByte();
    }

    @Override
    public String toString() {
        return "refusal=" + (reason == PAST_FORK ? "past-fork" : Byte.toString(reason));
    }
}
