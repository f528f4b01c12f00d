package io.chorus.coordinator.apply;

import io.chorus.changeset.RelationName;
import java.util.List;

/**
 * Tells the applier whether a row is one of this node's own pending rows: written by a local changeset that is
 * committed here but not yet delivered in total order. Such a row may legitimately be missing or present when a remote
 * change arrives; any other missing or present row is divergence (DESIGN §3).
 *
 * <p>Implementations must be thread-safe and must not block: helpers call it while holding row locks.
 */
@FunctionalInterface
public interface PendingRows {
    /**
     * @param identity the values of the relation's key columns, in column order, as text
     */
    boolean isPendingRow(RelationName relation, List<String> identity);

    /** No pending rows: every missing or present row is divergence. */
    PendingRows NONE = (relation, identity) -> false;
}
