package io.chorus.changeset.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.NodeId;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CaptureConfigTest {
    @Test
    void defaultsValidationAndMaskedDescription() {
        CaptureConfig c = CaptureConfig.of("jdbc:postgresql://h/App-1?user=u&password=secret", "App-1", NodeId.of("n1"), Path.of("/w"));
        assertThat(c.slotName()).isEqualTo("chorus_app_1");
        assertThat(c.publication()).isEqualTo("chorus");
        assertThat(c.helperOriginPrefix()).isEqualTo("chorus_h");
        assertThat(c.slotMode()).isEqualTo(CaptureConfig.SlotMode.CREATE_IF_MISSING);
        assertThat(c.describe()).contains("password=***").doesNotContain("secret");
        assertThatThrownBy(() -> c.withSlot("Bad-Name", CaptureConfig.SlotMode.EXISTING))
                .hasMessageContaining("slotName 'Bad-Name' is not a valid slot name");
        assertThatThrownBy(() -> c.withSpillThreshold(0)).hasMessageContaining("spillThresholdBytes must be > 0");
    }
}
