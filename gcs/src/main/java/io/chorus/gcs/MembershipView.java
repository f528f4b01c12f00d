package io.chorus.gcs;

import io.chorus.changeset.NodeId;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jgroups.Address;
import org.jgroups.JChannel;
import org.jgroups.View;
import org.jgroups.raft.RaftHandle;
import org.jgroups.util.NameCache;

/**
 * Computes a {@link Membership} from the channel's view and the log's configuration and leader. Primary means: a
 * leader is known, it is in this member's view, and the view holds a majority of the voters (a stale leader on the
 * minority side of a partition does not count). Thread-safe (reads volatile state of the stack). It is polled every
 * few milliseconds, so the last result is kept and returned again while its inputs (the view object, the voters
 * and the leader's address) are the same, once every member's logical name was known.
 */
final class MembershipView {
    private final JChannel channel;
    private final RaftHandle raft;
    private volatile Computed last;

    /** A result and what it was computed from. */
    private record Computed(View view, List<String> voters, Address leader, Membership membership) {
    }

    MembershipView(JChannel channel, RaftHandle raft) {
        this.channel = channel;
        this.raft = raft;
    }

    Membership compute() {
        View v = channel.getView();
        if (v == null) {
            return new Membership(List.of(), List.of(), Optional.empty(), false, 0);
        }
        List<String> voterNames = List.copyOf(raft.raft().members());
        Address leaderAddress = raft.leader();
        Computed c = last;
        if (c != null && c.view() == v && Objects.equals(c.leader(), leaderAddress) && c.voters().equals(voterNames)) {
            return c.membership();
        }
        Membership m = compute(v, voterNames, leaderAddress);
        // a member whose logical name is not known yet shows up once it is, without a new view: recompute until then
        boolean complete = m.present().size() == v.size()
                && (leaderAddress == null || m.leader().isPresent());
        last = complete ? new Computed(v, voterNames, leaderAddress, m) : null;
        return m;
    }

    private static Membership compute(View v, List<String> voterNames, Address leaderAddress) {
        List<NodeId> voters = ids(voterNames);
        List<NodeId> present = new ArrayList<>();
        for (Address a : v.getMembers()) {
            name(a).ifPresent(present::add);
        }
        present.sort(null);
        Optional<NodeId> leader = leaderAddress == null ? Optional.empty() : name(leaderAddress);
        long votersPresent = voters.stream().filter(present::contains).count();
        boolean primary = leaderAddress != null && v.containsMember(leaderAddress)
                && votersPresent >= voters.size() / 2 + 1;
        return new Membership(voters, present, leader, primary, v.getViewId().getId());
    }

    static Optional<NodeId> name(Address a) {
        String n = NameCache.get(a);
        if (n == null) {
            n = a.toString();
        }
        try {
            return Optional.of(NodeId.of(n));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static List<NodeId> ids(Collection<String> names) {
        List<NodeId> ids = new ArrayList<>();
        for (String n : names) {
            ids.add(NodeId.of(n));
        }
        ids.sort(null);
        return ids;
    }
}
