package io.chorus.coordinator.apply;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.RelationName;
import java.util.List;

/**
 * The database no longer holds the group's version of a row: a remote UPDATE or DELETE found no row, or a remote
 * INSERT found one, and the row is not one of this node's pending rows. Never retriable: the applier stops rather than
 * upsert silently.
 */
public final class DivergenceException extends ChorusException {
    private static final long serialVersionUID = 1L;
    private final Gsn gsn;

    public DivergenceException(Gsn gsn, String origin, RelationName relation, List<String> identity, String what) {
        super("DIVERGENCE at GSN " + gsn + " (origin " + origin + "): " + what + " in " + relation + " key "
                + identity + "; this node's data no longer matches the group. Applying stopped at GSN " + gsn
                + "; compare the row with the other nodes and rejoin this node by full state transfer");
        this.gsn = gsn;
    }

    public Gsn gsn() {
        return gsn;
    }
}
