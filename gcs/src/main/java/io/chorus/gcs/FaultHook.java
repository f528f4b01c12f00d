package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.util.Collection;
import java.util.Optional;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.protocols.DISCARD;

/**
 * Fault injection for tests, acting inside the real stack through its DISCARD protocol: cut this member off from
 * chosen members (both directions when applied on both sides), heal, or crash (drop everything, then close without
 * a clean leave). Not for production use.
 */
public final class FaultHook {
    private static final Logger LOG = LogManager.getLogger(FaultHook.class);
    private final Group group;
    private final JChannel channel;

    FaultHook(Group group, JChannel channel) {
        this.group = group;
        this.channel = channel;
    }

    private DISCARD discard() {
        DISCARD d = channel.getProtocolStack().findProtocol(DISCARD.class);
        if (d == null) {
            throw new IllegalStateException("the stack of " + group.self() + " has no DISCARD protocol");
        }
        return d;
    }

    /** Drops all messages this member receives from the given members (those in its current view). */
    public void cut(Collection<NodeId> from) {
        DISCARD d = discard();
        for (Address a : channel.getView().getMembers()) {
            Optional<NodeId> id = MembershipView.name(a);
            if (id.isPresent() && from.contains(id.get())) {
                d.addIgnoreMember(a);
            }
        }
        LOG.info("fault: {} drops traffic from {}", group.self(), from);
    }

    /** Stops dropping messages. */
    public void heal() {
        discard().resetIgnoredMembers();
        LOG.info("fault: {} healed", group.self());
    }

    /** Simulates a crash: drops all traffic in and out, then closes without a clean leave. */
    public void crash() {
        discard().discardAll(true);
        LOG.info("fault: {} crashed", group.self());
        group.close();
    }
}
