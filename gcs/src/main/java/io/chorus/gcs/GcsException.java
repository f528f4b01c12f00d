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
        /**
         * This member was refused because its copy of the log, or its database, holds GSNs past a fork of the
         * group's history (a forced bootstrap it missed; {@link History}): the refusing member is of the newer
         * history. It can come back only by a full transfer, with its group data directory moved away. Told apart
         * from {@link #REFUSED} by the refusing member ({@code RefusalHeader}), not by the message's text.
         */
        PAST_FORK,
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
