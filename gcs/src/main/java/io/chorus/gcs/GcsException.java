package io.chorus.gcs;

import io.chorus.changeset.ChorusException;

/** A group operation failed; {@link #kind()} says how, the message says what to do. */
public final class GcsException extends ChorusException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** An append was not committed before its deadline; its fate is unknown: retry the same records in order. */
        TIMEOUT,
        /** This member was refused by the group (identity, protocol version, credential). */
        REFUSED,
        /** The group handle is closed. */
        CLOSED,
        /** The group could not be joined or an operation failed for another reason. */
        FAILED
    }

    private final Kind kind;

    public GcsException(Kind kind, String message) {
        this(kind, message, null);
    }

    public GcsException(Kind kind, String message, Throwable cause) {
        super(message, cause, kind == Kind.TIMEOUT);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
