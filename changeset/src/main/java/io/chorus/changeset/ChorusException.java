package io.chorus.changeset;

/**
 * Base of Chorus' own errors. The message names the object, the state and the fix; {@link #isRetriable()} says whether
 * repeating the operation (on a fresh connection) may succeed.
 */
public class ChorusException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean retriable;

    public ChorusException(String message) {
        this(message, null, false);
    }

    public ChorusException(String message, Throwable cause) {
        this(message, cause, false);
    }

    public ChorusException(String message, Throwable cause, boolean retriable) {
        super(message, cause);
        this.retriable = retriable;
    }

    public boolean isRetriable() {
        return retriable;
    }
}
