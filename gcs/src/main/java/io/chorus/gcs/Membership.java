package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.util.List;
import java.util.Optional;

/**
 * A snapshot of a group's membership as one member sees it.
 *
 * @param voters the members of the replicated log's configuration (their majority is the primary component)
 * @param present the members currently in this member's view (reachable), voters or not
 * @param leader the current log leader, if one is known
 * @param primary whether this member is in the primary component and can commit appends
 * @param viewId the id of the underlying group view; it grows with every view change
 */
public record Membership(List<NodeId> voters, List<NodeId> present, Optional<NodeId> leader, boolean primary,
                         long viewId) {

    public Membership {
        voters = List.copyOf(voters);
        present = List.copyOf(present);
    }

    /** "PRIMARY" or "NON_PRIMARY", as shown in status reports. */
    public String state() {
        return primary ? "PRIMARY" : "NON_PRIMARY";
    }

    @Override
    public String toString() {
        return state() + " view " + viewId + " voters " + voters + " present " + present + " leader "
                + leader.map(NodeId::toString).orElse("none");
    }
}
