package io.chorus.coordinator.certify;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import java.util.List;

/**
 * A row change of one origin that lost (at the certifier) or is doomed (at its origin), as the same-origin rule R2
 * sees it: its keys and the cause of its loss.
 */
public interface LostChange {
    /** Every key of the lost change. */
    List<Key> keys();

    /** The lowest GSN of the winners that made it lose, inherited along R2. */
    Gsn cause();
}
