package io.chorus.changeset.capture;

import io.chorus.changeset.ChorusException;

/** A capture failure; the message names the database or slot, what was found and the fix. */
public final class CaptureException extends ChorusException {
    private static final long serialVersionUID = 1L;

    public CaptureException(String message, Throwable cause, boolean retriable) {
        super(message, cause, retriable);
    }

    public static CaptureException fatal(String message) {
        return new CaptureException(message, null, false);
    }

    public static CaptureException fatal(String message, Throwable cause) {
        return new CaptureException(message, cause, false);
    }
}
