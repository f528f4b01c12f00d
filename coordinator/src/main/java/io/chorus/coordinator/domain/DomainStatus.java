package io.chorus.coordinator.domain;

import java.util.List;

/**
 * A snapshot of one domain's state for {@code chorus.status()} and the log: immutable.
 *
 * @param members one entry per member: node, address, state, leader, self, voting, and the W it announced (null
 *                when it announced none: not present, or not started)
 */
public record DomainStatus(String node, String group, DomainState state, String phase, String viewId,
                           boolean primary, String mode, String policy, long watermark, long delivered,
                           int queueDepth, long lagGsn, long lagMillis, long conflicts,
                           List<Member> members, String lastError) {

    public record Member(String node, String address, String state, boolean leader, boolean self, boolean voting,
                         Long watermark) {
    }
}
