package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.NodeId;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Configuration is validated once, with messages that say what to fix; secrets never appear in toString. */
class GroupConfigTest {
    private static final List<Member> MEMBERS = List.of(Member.parse("n1=127.0.0.1:7800"),
            Member.parse("n2=127.0.0.1:7801"));

    private static GroupConfig.Builder builder(String self) {
        return GroupConfig.builder("g", NodeId.of(self), Path.of("/tmp/x")).members(MEMBERS);
    }

    @Test
    void selfMustBeAMember() {
        assertThatThrownBy(() -> builder("n9").build()).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("this member n9 is not in the member list").hasMessageContaining("n9=host:port");
    }

    @Test
    void membersParseAndDuplicatesAreRejected() {
        assertThat(Member.parse("node1 = example.org:7900")).isEqualTo(new Member(NodeId.of("node1"), "example.org",
                7900));
        assertThatThrownBy(() -> Member.parse("node1-example.org")).hasMessageContaining("id=host:port");
        assertThatThrownBy(() -> builder("n1").members(List.of(MEMBERS.get(0), MEMBERS.get(0))).build())
                .hasMessageContaining("member n1 is listed twice");
    }

    @Test
    void shortSecretsAndBadLimitsAreRejected() {
        assertThatThrownBy(() -> builder("n1").sharedSecret("short").build())
                .hasMessageContaining("at least 16 characters");
        assertThatThrownBy(() -> builder("n1").maxBatchRecords(0).build()).hasMessageContaining("maxBatchRecords");
        assertThatThrownBy(() -> builder("n1").voting(false).build()).hasMessageContaining("non-voting members");
        assertThatThrownBy(() -> builder("n1").retentionBytes(10).build()).hasMessageContaining("retentionBytes");
    }

    @Test
    void toStringMasksTheSecret() {
        GroupConfig cfg = builder("n1").sharedSecret("a very secret value 123").build();
        assertThat(cfg.toString()).contains("sharedSecret=****").doesNotContain("very secret");
        assertThat(cfg.selfMember().port()).isEqualTo(7800);
    }
}
