package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The assessment of a forced bootstrap over positions, without a group. */
class BootstrapPlanTest {
    private static final NodeId N1 = NodeId.of("n1");
    private static final NodeId N2 = NodeId.of("n2");
    private static final NodeId N3 = NodeId.of("n3");
    private static final NodeId N4 = NodeId.of("n4");
    private static final NodeId N5 = NodeId.of("n5");

    private static BootstrapPlan.Position at(long w, long log) {
        return new BootstrapPlan.Position(Gsn.of(w), Gsn.of(log));
    }

    @Test
    void membersGoneWithMoreAreNamedWithTheGsnsLostAndThoseNeverSeenAsUnknown() {
        BootstrapPlan p = new BootstrapPlan(N1, at(40, 42), List.of(N1, N2, N3, N4, N5), List.of(N1, N2),
                Map.of(N1, at(40, 42), N2, at(30, 42), N3, at(50, 50), N4, at(45, 48)), false);
        assertThat(p.missingVoters()).containsExactly(N3, N4, N5);
        assertThat(p.ahead()).containsOnlyKeys(N3, N4);
        assertThat(p.presentAhead()).isEmpty();
        assertThat(p.gsnsLost()).isEqualTo(8);
        assertThat(p.unknownVoters()).containsExactly(N5);
        assertThat(p.refusal(true)).isEmpty();
        assertThat(p.refusal(false)).get().asString()
                .contains("n3 (W 50, log GSN 50), n4 (W 45, log GSN 48) are ahead: 8 GSNs beyond this member's log "
                        + "would be lost")
                .contains("[n5] announced nothing since this member joined")
                .contains("confirm the forced bootstrap on n1");
    }

    @Test
    void aPrimaryComponentHasNothingToForceAndAPresentMemberAheadTakesPrecedence() {
        BootstrapPlan primary = new BootstrapPlan(N1, at(5, 5), List.of(N1, N2, N3), List.of(N1, N2),
                Map.of(), true);
        assertThat(primary.refusal(true)).get().asString().contains("remove a lost voter with removeMember", "is in a primary component")
                .doesNotContain("confirm");
        BootstrapPlan behind = new BootstrapPlan(N1, at(5, 5), List.of(N1, N2, N3, N4, N5), List.of(N1, N2, N3),
                Map.of(N2, at(7, 9), N3, at(12, 12)), false);
        assertThat(behind.refusal(true)).get().asString()
                .contains("n2 (W 7, log GSN 9), n3 (W 12, log GSN 12) are present and ahead of it")
                .contains("run the forced bootstrap on n3 instead (from n1, 7 GSNs beyond its log would be lost)");
    }
}
