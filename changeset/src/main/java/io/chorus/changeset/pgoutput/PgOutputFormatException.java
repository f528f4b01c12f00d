package io.chorus.changeset.pgoutput;

import io.chorus.changeset.ChorusException;

/**
 * Bytes that are not a well-formed pgoutput message: truncated, with trailing bytes, with an unknown message type or
 * tuple kind, an out-of-range flag, invalid UTF-8, or a value in binary format (we ask for text). Carries the message
 * type and the byte offset in the message where parsing stopped. Never retriable: the same bytes fail the same way.
 */
public final class PgOutputFormatException extends ChorusException {
    private static final long serialVersionUID = 1L;
    private final char messageType;
    private final int offset;

    public PgOutputFormatException(char messageType, int offset, String detail) {
        super("malformed pgoutput message '" + printable(messageType) + "' (" + PgOutputMessage.typeName(messageType)
                + ") at byte " + offset + ": " + detail);
        this.messageType = messageType;
        this.offset = offset;
    }

    /** The message type byte as a character (0 when the message was empty). */
    public char messageType() {
        return messageType;
    }

    /** Offset in the message (0 = the type byte) where the malformation was found. */
    public int offset() {
        return offset;
    }

    private static String printable(char c) {
        return c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("0x%02x", (int) c);
    }
}
