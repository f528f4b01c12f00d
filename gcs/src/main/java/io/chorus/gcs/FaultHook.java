package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.JChannel;

/**
 * Fault injection for tests, acting inside the real stack through its {@link FaultDiscard} protocol: cut this member
 * off from chosen members (it drops everything it receives from them, by name; a partition is symmetric when every
 * member on each side cuts the other side), heal, or crash (drop everything, then close without a clean leave). Not
 * for production use.
 *
 * <p>A process that cannot reach its groups' handles (a sidecar, whose groups belong to its domains) uses the
 * process-wide cut, {@link #cutInProcess}: it applies to every group of the member open in this JVM and to every group
 * the member opens later, before that group connects, until it is replaced. Thread-safe.
 */
public final class FaultHook {
    private static final Logger LOG = LogManager.getLogger(FaultHook.class);
    /** member → the members its groups in this JVM drop traffic from (absent: no process-wide cut). */
    private static final Map<NodeId, Set<NodeId>> PROCESS_CUTS = new ConcurrentHashMap<>();
    /** The groups open in this JVM with their channels (registered by {@link Group}). */
    private static final Map<Group, JChannel> OPEN = new ConcurrentHashMap<>();

    private final Group group;
    private final JChannel channel;

    FaultHook(Group group, JChannel channel) {
        this.group = group;
        this.channel = channel;
    }

    private FaultDiscard discard() {
        FaultDiscard d = channel.getProtocolStack().findProtocol(FaultDiscard.class);
        if (d == null) {
            throw new IllegalStateException("the stack of " + group.self() + " has no FaultDiscard protocol");
        }
        return d;
    }

    /**
     * Drops from now on all messages this member receives from the given members, whatever their address (a member
     * restarting during the cut stays cut); adds to an earlier cut.
     */
    public void cut(Collection<NodeId> from) {
        FaultDiscard d = discard();
        Set<NodeId> names = new TreeSet<>(d.cutNames());
        names.addAll(from);
        d.cutNames(names);
        LOG.info("fault: {} drops traffic from {}", group.self(), names);
    }

    /** Stops dropping messages. */
    public void heal() {
        FaultDiscard d = discard();
        d.cutNames(Set.of());
        d.resetIgnoredMembers();
        LOG.info("fault: {} healed", group.self());
    }

    /** Simulates a crash: drops all traffic in and out, then closes without a clean leave. */
    public void crash() {
        discard().discardAll(true);
        LOG.info("fault: {} crashed", group.self());
        group.close();
    }

    /**
     * Replaces the process-wide cut of member {@code self}: every group of {@code self} open in this JVM, and every
     * group of {@code self} opened later, drops all traffic from {@code from} (empty: heals them). Returns at once;
     * the cut holds for the next message received.
     *
     * @return the groups of {@code self} open now that took the cut, by group name (empty: none open yet)
     */
    public static List<String> cutInProcess(NodeId self, Set<NodeId> from) {
        Set<NodeId> names = Set.copyOf(new TreeSet<>(from));
        if (names.isEmpty()) {
            PROCESS_CUTS.remove(self);
        } else {
            PROCESS_CUTS.put(self, names);
        }
        List<String> applied = new ArrayList<>();
        OPEN.forEach((g, ch) -> {
            if (g.self().equals(self)) {
                new FaultHook(g, ch).discard().cutNames(names);
                applied.add(g.config().groupName());
            }
        });
        applied.sort(null);
        LOG.warn("fault (test control): {} drops traffic from {} in groups {}{}", self, new TreeSet<>(names), applied,
                names.isEmpty() ? " (healed)" : "");
        return applied;
    }

    /** Registers a group whose stack is built but not yet connected, and applies the process-wide cut, if any. */
    static void opening(Group group, JChannel channel) {
        OPEN.put(group, channel);
        Set<NodeId> cut = PROCESS_CUTS.get(group.self());
        if (cut != null) {
            new FaultHook(group, channel).discard().cutNames(cut);
            LOG.warn("fault (test control): group of {} opens cut off from {}", group.self(), new TreeSet<>(cut));
        }
    }

    /** Forgets a closed group. */
    static void closed(Group group) {
        OPEN.remove(group);
    }
}
