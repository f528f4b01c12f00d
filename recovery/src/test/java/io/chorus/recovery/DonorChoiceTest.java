package io.chorus.recovery;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import org.junit.jupiter.api.Test;

class DonorChoiceTest {
    private static final NodeId N1 = NodeId.of("node1");
    private static final NodeId N2 = NodeId.of("node2");
    private static final NodeId N3 = NodeId.of("node3");

    @Test
    void prefersUpToDateThenLeastLoadedAndRotatesWithTheAttempt() {
        DonorChoice c = new DonorChoice();
        for (int i = 0; i < 10; i++) {
            c.observe(N1, null);
        }
        c.observe(N2, null);
        c.observe(N1, Gsn.of(50));
        c.observe(N2, Gsn.of(50));
        assertThat(c.ranking(N3)).containsExactly(N2, N1); // same W: node2 appended less
        c.observe(N1, Gsn.of(60));
        assertThat(c.ranking(N3)).containsExactly(N1, N2); // node1 is more up to date
        assertThat(c.choose(new TransferMessage.Request(N3, "r", 0, null))).isEqualTo(N1);
        assertThat(c.choose(new TransferMessage.Request(N3, "r", 1, null))).isEqualTo(N2);
        assertThat(c.choose(new TransferMessage.Request(N3, "r", 2, null))).isEqualTo(N1);
        assertThat(c.ranking(N1)).containsExactly(N2);
    }

    @Test
    void withoutCandidatesTheJoinersSuggestionCounts() {
        DonorChoice c = new DonorChoice();
        c.observe(N3, null);
        assertThat(c.choose(new TransferMessage.Request(N3, "r", 0, N1))).isEqualTo(N1);
        assertThat(c.choose(new TransferMessage.Request(N3, "r", 0, N3))).isNull();
    }

    @Test
    void membersLeaveTheRankingWhenTheyFallOutOfTheWindow() {
        DonorChoice c = new DonorChoice();
        c.observe(N1, Gsn.of(5));
        for (int i = 0; i < DonorChoice.WINDOW; i++) {
            c.observe(N2, null);
        }
        assertThat(c.ranking(N3)).containsExactly(N2);
    }
}
