package io.chorus.recovery;

import io.chorus.changeset.ChorusException;

/**
 * A domain stopped because it needs a full transfer (the group's log no longer holds what it needs); the need is
 * recorded in the database ({@link Transfer#markNeeded}), so starting the domain again runs the transfer. Retriable.
 */
public final class TransferNeededException extends ChorusException {
    private static final long serialVersionUID = 1L;

    public TransferNeededException(String message) {
        super(message, null, true);
    }
}
