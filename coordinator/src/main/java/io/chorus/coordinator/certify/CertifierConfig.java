package io.chorus.coordinator.certify;

/**
 * The certifier's configuration, validated once. Immutable.
 *
 * @param window the most GSNs the certification index keeps below the head, whatever the watermarks say. A changeset
 *               whose deps falls further behind than this is uncertifiable (DESIGN §3). Must be at least 1.
 */
public record CertifierConfig(long window) {
    /** Default window: one million GSNs below the head. */
    public static final long DEFAULT_WINDOW = 1_000_000L;

    public CertifierConfig {
        if (window < 1) {
            throw new IllegalArgumentException("certifier window must be >= 1 GSN, got " + window
                    + "; set it to the number of GSNs a node may lag behind the head and still be certified");
        }
    }

    public static CertifierConfig defaults() {
        return new CertifierConfig(DEFAULT_WINDOW);
    }
}
