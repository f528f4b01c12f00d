package io.chorus.coordinator.domain;

import io.chorus.changeset.NodeId;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.gcs.Member;
import io.chorus.gcs.Membership;
import java.util.ArrayList;
import java.util.List;

/** Every configured member as this node sees it, for {@code chorus.nodes()}. */
final class MembershipView {
    private MembershipView() {
    }

    /** @param announced the W each present member announced beside the log (the watermark exchange) */
    static List<DomainStatus.Member> members(NodeConfig cfg, String groupName, Membership m,
                                             java.util.Map<NodeId, io.chorus.changeset.Gsn> announced) {
        List<DomainStatus.Member> out = new ArrayList<>();
        for (Member member : GroupFactory.members(cfg, groupName)) {
            NodeId id = member.id();
            boolean present = m != null && m.present().contains(id);
            boolean leader = m != null && m.leader().map(id::equals).orElse(false);
            String state = !present ? "UNREACHABLE" : (m.primary() ? "PRIMARY" : "NON_PRIMARY");
            out.add(new DomainStatus.Member(id.value(), member.host() + ":" + member.port(), state, leader,
                    id.equals(cfg.node()), m == null || m.voters().contains(id),
                    announced.containsKey(id) ? announced.get(id).value() : null));
        }
        return out;
    }
}
