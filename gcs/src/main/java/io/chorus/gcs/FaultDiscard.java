package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.util.Optional;
import java.util.Set;
import org.jgroups.Address;
import org.jgroups.Message;
import org.jgroups.protocols.DISCARD;

/**
 * The stack's fault-injection protocol: JGroups' DISCARD, which drops what comes from chosen addresses, extended to
 * drop what comes from chosen members by name (their logical name, the node id), so that a cut also holds for a
 * member that restarts with a new address while it is in place. Inactive (one volatile read per message) unless
 * {@link FaultHook} cuts. Not for production use. Thread-safe.
 */
public final class FaultDiscard extends DISCARD {
    private volatile Set<NodeId> cutNames = Set.of();

    /** Drops from now on every message received from these members; replaces the previous set (empty: none). */
    void cutNames(Set<NodeId> names) {
        cutNames = Set.copyOf(names);
    }

    Set<NodeId> cutNames() {
        return cutNames;
    }

    @Override
    protected boolean shouldDropUpMessage(Message msg, Address sender) {
        Set<NodeId> cut = cutNames;
        if (!cut.isEmpty() && sender != null) {
            Optional<NodeId> name = MembershipView.name(sender);
            if (name.isPresent() && cut.contains(name.get())) {
                return true;
            }
        }
        return super.shouldDropUpMessage(msg, sender);
    }
}
