package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ConflictTallyTest {
    @Test
    void aPeriodIsOneLineByKindAndOriginThenItRestarts() {
        ConflictTally t = new ConflictTally();
        assertThat(t.takeSummary()).as("nothing lost: no line").isNull();
        t.add("node2", "update_update", 1);
        t.add("node3", "transaction", 4);
        t.add("node2", "transaction", 4);
        assertThat(t.takeSummary()).isEqualTo("3 changeset(s) lost 9 row change(s) to earlier ones in the total order "
                + "(transaction 2, update_update 1; from node2 2, node3 1); each lost row change is in chorus.conflicts");
        assertThat(t.takeSummary()).as("restarted").isNull();
        t.add("node1", "dependency", 2);
        assertThat(t.takeSummary()).startsWith("1 changeset(s) lost 2 row change(s)").contains("(dependency 1; from node1 1)");
    }
}
