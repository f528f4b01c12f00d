package io.chorus.changeset.wire;

import io.chorus.changeset.ChorusException;

/**
 * Bytes that are not a valid Chorus wire frame: wrong magic, another format version, a checksum mismatch, truncated
 * or trailing bytes, or a body that does not decode. The message names what was being read and the byte offset.
 * Never retriable: the same bytes fail the same way.
 */
public final class WireFormatException extends ChorusException {
    private static final long serialVersionUID = 1L;

    public WireFormatException(String message) {
        super(message);
    }

    public WireFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
