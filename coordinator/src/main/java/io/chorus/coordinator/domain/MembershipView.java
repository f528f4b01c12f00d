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

    static List<DomainStatus.Member> members(NodeConfig cfg, String groupName, Membership m) {
        List<DomainStatus.Member> out = new ArrayList<>();
        for (Member member : GroupFactory.members(cfg, groupName)) {
            NodeId id = member.id();
            boolean present = m != null && m.present().contains(id);
            boolean leader = m != null && m.leader().map(id::equals).orElse(false);
            String state = !present ? "UNREACHABLE" : (m.primary() ? "PRIMARY" : "NON_PRIMARY");
            out.add(new DomainStatus.Member(id.value(), member.host() + ":" + member.port(), state, leader,
                    id.equals(cfg.node()), m == null || m.voters().contains(id)));
        }
        return out;
    }
}
