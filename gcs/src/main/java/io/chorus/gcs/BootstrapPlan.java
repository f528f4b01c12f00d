package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What a forced bootstrap from this member would keep and lose, computed from the membership and the watermark
 * exchange ({@link Group#bootstrapPlan}). A forced bootstrap makes this member the only voter and restarts the group
 * from its log; it is refused while a primary component exists, while a present member is ahead of this one (the
 * group restarts from the highest position available: run it there), and unless confirmed. Immutable.
 *
 * @param self this member
 * @param own this member's W and log GSN
 * @param voters the voters of the log's configuration as this member knows it
 * @param present the members in this member's view now, this one included
 * @param seen the last W and log GSN announced by every other member since this member joined, present or gone
 * @param primary whether this member is in a primary component now
 */
public record BootstrapPlan(NodeId self, Position own, List<NodeId> voters, List<NodeId> present,
                            Map<NodeId, Position> seen, boolean primary) {

    /**
     * A member's position: its W (the last GSN applied to its database) and its log's last GSN.
     *
     * @param w the member's W
     * @param log the last GSN in the member's copy of the log
     */
    public record Position(Gsn w, Gsn log) {
        /** The highest GSN the member holds, in its database or its log. */
        public long reach() {
            return Math.max(w.value(), log.value());
        }

        @Override
        public String toString() {
            return "W " + w.value() + ", log GSN " + log.value();
        }
    }

    public BootstrapPlan {
        voters = List.copyOf(voters);
        present = List.copyOf(present);
        seen = new TreeMap<>(seen);
        seen.remove(self);
        seen = Collections.unmodifiableMap(seen);
    }

    /** The voters missing from this member's view: removed by a forced bootstrap, back only by a full transfer. */
    public List<NodeId> missingVoters() {
        return voters.stream().filter(v -> !present.contains(v)).toList();
    }

    /** The other members seen with a position beyond this member's, by node id. */
    public Map<NodeId, Position> ahead() {
        Map<NodeId, Position> ahead = new TreeMap<>();
        seen.forEach((n, p) -> {
            if (p.reach() > own.reach()) {
                ahead.put(n, p);
            }
        });
        return ahead;
    }

    /** The members present now with a position beyond this member's: the bootstrap must run on one of them. */
    public Map<NodeId, Position> presentAhead() {
        Map<NodeId, Position> ahead = ahead();
        ahead.keySet().retainAll(present);
        return ahead;
    }

    /** How many GSNs beyond this member's log other members were seen with: lost by a bootstrap from here. */
    public long gsnsLost() {
        long max = seen.values().stream().mapToLong(Position::reach).max().orElse(0);
        return Math.max(0, max - own.log().value());
    }

    /** The missing voters that announced nothing since this member joined: what they hold is unknown. */
    public List<NodeId> unknownVoters() {
        return missingVoters().stream().filter(v -> !seen.containsKey(v)).toList();
    }

    /**
     * Why a forced bootstrap from this member is refused, if it is: a primary component exists, a present member is
     * ahead, or it is not {@code confirmed}. The message states the positions and names the fix.
     */
    public Optional<String> refusal(boolean confirmed) {
        if (primary) {
            return Optional.of("member " + self + " is in a primary component (voters " + voters + ", present "
                    + present + "): a forced bootstrap is only for a group that lost a majority of its voters for "
                    + "good; remove a lost voter with removeMember instead");
        }
        Map<NodeId, Position> better = presentAhead();
        if (!better.isEmpty()) {
            NodeId best = better.entrySet().stream().max(Map.Entry.comparingByValue(
                    Comparator.comparingLong(Position::reach))).orElseThrow().getKey();
            return Optional.of("refusing a forced bootstrap from " + self + " (" + own + "): " + describe(better)
                    + " present and ahead of it; the group must restart from the highest position available: run "
                    + "the forced bootstrap on " + best + " instead (from " + self + ", "
                    + (better.get(best).reach() - own.log().value()) + " GSNs beyond its log would be lost)");
        }
        if (!confirmed) {
            return Optional.of(describe() + ". Nothing was changed: if the missing voters are lost for good, "
                    + "confirm the forced bootstrap on " + self);
        }
        return Optional.empty();
    }

    /** The whole assessment in one line, for the operator and the log. */
    public String describe() {
        StringBuilder s = new StringBuilder();
        s.append("member ").append(self).append(" (").append(own).append(") is ").append(primary ? "" : "not ")
                .append("in a primary component: voters ").append(voters).append(", present ").append(present)
                .append(", missing voters ").append(missingVoters()).append(" (a majority is ")
                .append(voters.size() / 2 + 1).append(" of ").append(voters.size()).append("). A forced bootstrap ")
                .append("makes ").append(self).append(" the only voter and restarts the group from its log at GSN ")
                .append(own.log().value()).append(", removing ").append(missingVoters())
                .append(" (they can come back only by a full transfer); ");
        Map<NodeId, Position> ahead = ahead();
        if (ahead.isEmpty()) {
            s.append("no member seen announced more than this member's log");
        } else {
            s.append(describe(ahead)).append(" ahead: ").append(gsnsLost())
                    .append(" GSNs beyond this member's log would be lost");
        }
        if (!unknownVoters().isEmpty()) {
            s.append("; ").append(unknownVoters()).append(" announced nothing since this member joined: what they "
                    + "ordered after leaving is unknown and would be lost");
        }
        return s.toString();
    }

    private static String describe(Map<NodeId, Position> members) {
        return members.entrySet().stream().map(e -> e.getKey() + " (" + e.getValue() + ")")
                .collect(Collectors.joining(", ")) + (members.size() == 1 ? " is" : " are");
    }
}
