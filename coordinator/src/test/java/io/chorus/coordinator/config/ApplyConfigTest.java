package io.chorus.coordinator.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.ChorusException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code apply} section: helpers and the writer hold, their defaults, and what a bad value is told. */
class ApplyConfigTest {
    private static final String BASE = "node: node1\ndataDir: data\npostgres:\n  databases: [app]\n"
            + "group:\n  listen: 127.0.0.1:7800\n  members:\n    node1: 127.0.0.1:7800\n";

    @TempDir
    Path dir;

    private NodeConfig load(String extra) throws IOException {
        Path file = Files.writeString(dir.resolve("node.yaml"), BASE + extra);
        return ConfigLoader.load(file, Map.of(), Map.of());
    }

    @Test
    void theWriterHoldDefaultsToTwoRacesAndTwoHundredMilliseconds() throws IOException {
        NodeConfig cfg = load("");
        assertThat(cfg.helpers()).isEqualTo(4);
        assertThat(cfg.holdAfterRaces()).isEqualTo(2);
        assertThat(cfg.holdTimeout()).isEqualTo(Duration.ofMillis(200));
        assertThat(load("apply:\n  helpers: 2\n").holdAfterRaces()).isEqualTo(2);
        assertThat(cfg.describe()).contains("holdAfterRaces=2, holdTimeout=200ms");
    }

    @Test
    void theWriterHoldCanBeTunedOrTurnedOff() throws IOException {
        NodeConfig tuned = load("apply:\n  holdAfterRaces: 5\n  holdTimeout: 1s\n");
        assertThat(tuned.holdAfterRaces()).isEqualTo(5);
        assertThat(tuned.holdTimeout()).isEqualTo(Duration.ofSeconds(1));
        assertThat(load("apply:\n  holdAfterRaces: 0\n").holdAfterRaces()).as("0 = never hold").isZero();
    }

    @Test
    void aBadValueNamesTheKeyAndWhatIsAllowed() {
        assertThatThrownBy(() -> load("apply:\n  holdAfterRaces: -1\n")).isInstanceOf(ChorusException.class)
                .hasMessageContaining("apply.holdAfterRaces must be between 0 (never hold) and 1000, got -1");
        assertThatThrownBy(() -> load("apply:\n  holdTimeout: 0ms\n")).isInstanceOf(ChorusException.class)
                .hasMessageContaining("apply.holdTimeout must be more than 0 and at most 10s");
        assertThatThrownBy(() -> load("apply:\n  holdTimeout: soon\n")).isInstanceOf(ChorusException.class)
                .hasMessageContaining("apply.holdTimeout must be a duration like 500ms");
        assertThatThrownBy(() -> load("apply:\n  holdTimout: 1s\n")).isInstanceOf(ChorusException.class)
                .hasMessageContaining("unknown configuration key 'apply.holdTimout'");
    }
}
