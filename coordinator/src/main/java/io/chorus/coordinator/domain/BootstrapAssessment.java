package io.chorus.coordinator.domain;

import io.chorus.changeset.NodeId;
import io.chorus.gcs.BootstrapPlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * What a forced bootstrap from this node would do and lose (DESIGN §7), as {@code chorus.bootstrap_plan()} and
 * {@code chorus.force_bootstrap()} show it: the group's {@link BootstrapPlan} in the control surface's terms.
 * Immutable.
 *
 * @param node       this node
 * @param watermark  this node's W
 * @param logGsn     the last GSN in this node's copy of the log: the group restarts from it
 * @param primary    whether this node is in a primary component now (then a forced bootstrap is refused)
 * @param gsnsLost   how many GSNs beyond this node's log other members were seen with
 * @param assessment the whole assessment in one line
 * @param refused    why even a confirmed forced bootstrap is refused now (a primary component exists, or a present
 *                   member is ahead: the text names it and the fix), or null
 * @param unconfirmed what an unconfirmed request answers: the assessment, ending with how to confirm
 * @param runOn      the present member ahead of this one to run the forced bootstrap on instead, or null
 * @param members    one row per member: the voters, and every other member seen
 */
public record BootstrapAssessment(String node, long watermark, long logGsn, boolean primary, long gsnsLost,
                                  String assessment, String refused, String unconfirmed, String runOn,
                                  List<Member> members) {

    /**
     * One member and what a forced bootstrap from this node does to it.
     *
     * @param watermark the member's W as last announced (null when it announced none since this node joined)
     * @param logGsn    the member's log GSN as last announced (null likewise)
     * @param aheadBy   GSNs it holds beyond this node's log (0 when none or unknown)
     */
    public record Member(String node, boolean self, boolean voter, boolean present, Long watermark, Long logGsn,
                         long aheadBy, String fate) {
    }

    public BootstrapAssessment {
        members = List.copyOf(members);
    }

    static BootstrapAssessment of(BootstrapPlan p) {
        Map<NodeId, BootstrapPlan.Position> ahead = p.presentAhead();
        String runOn = ahead.entrySet().stream()
                .max(Map.Entry.comparingByValue(Comparator.comparingLong(BootstrapPlan.Position::reach)))
                .map(e -> e.getKey().value()).orElse(null);
        return new BootstrapAssessment(p.self().value(), p.own().w().value(), p.own().log().value(), p.primary(),
                p.gsnsLost(), p.describe(), p.refusal(true).orElse(null), p.refusal(false).orElse(null), runOn,
                members(p));
    }

    private static List<Member> members(BootstrapPlan p) {
        TreeSet<NodeId> all = new TreeSet<>(p.voters());
        all.addAll(p.seen().keySet());
        all.add(p.self());
        List<Member> out = new ArrayList<>();
        for (NodeId n : all) {
            boolean self = n.equals(p.self());
            BootstrapPlan.Position pos = self ? p.own() : p.seen().get(n);
            long aheadBy = pos == null ? 0 : Math.max(0, pos.reach() - p.own().log().value());
            out.add(new Member(n.value(), self, p.voters().contains(n), self || p.present().contains(n),
                    pos == null ? null : pos.w().value(), pos == null ? null : pos.log().value(), aheadBy,
                    fate(p, n, self, pos, aheadBy)));
        }
        return out;
    }

    private static String fate(BootstrapPlan p, NodeId n, boolean self, BootstrapPlan.Position pos, long aheadBy) {
        if (self) {
            return "becomes the only voter; the group restarts from its log at GSN " + p.own().log().value();
        }
        boolean present = p.present().contains(n);
        if (present && aheadBy > 0) {
            return "present and ahead by " + aheadBy + " GSNs: run the forced bootstrap there instead";
        }
        if (present) {
            return p.voters().contains(n) ? "present: added back as a voter, continues from this node's log"
                    : "present, not a voter: continues from this node's log";
        }
        if (!p.voters().contains(n)) {
            return "gone, not a voter" + (aheadBy > 0 ? "; its " + aheadBy + " GSNs beyond this node's log are lost" : "");
        }
        if (pos == null) {
            return "missing: removed from the voters (back only by a full transfer); it announced nothing since this "
                    + "node joined: what it ordered after leaving is unknown and lost";
        }
        return "missing: removed from the voters (back only by a full transfer); "
                + (aheadBy > 0 ? "its " + aheadBy + " GSNs beyond this node's log are lost"
                : "it announced nothing beyond this node's log");
    }
}
