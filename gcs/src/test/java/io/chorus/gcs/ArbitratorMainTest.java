package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The arbitrator's configuration file: read, validated, unknown keys rejected, the secret read from its file. */
class ArbitratorMainTest {
    @TempDir
    Path dir;

    @Test
    void readsAConfigurationFile() throws Exception {
        Files.writeString(dir.resolve("secret"), "a shared secret of enough length\n");
        Path file = dir.resolve("arb.properties");
        Files.writeString(file, "group=orders\nnode=arb1\nmembers=n1=10.0.0.1:7800,n2=10.0.0.2:7800,arb1=10.0.0.3:7800\n"
                + "data-dir=" + dir.resolve("data") + "\nsecret-file=" + dir.resolve("secret") + "\n");
        GroupConfig cfg = ArbitratorMain.load(file);
        assertThat(cfg.groupName()).isEqualTo("orders");
        assertThat(cfg.self().value()).isEqualTo("arb1");
        assertThat(cfg.members()).hasSize(3);
        assertThat(cfg.sharedSecret()).isEqualTo("a shared secret of enough length");
        assertThat(cfg.fsync()).isTrue();
        assertThat(cfg.transport()).isEqualTo(Transport.TCP);
    }

    @Test
    void rejectsUnknownKeysAndMissingOnes() throws Exception {
        Path file = dir.resolve("arb.properties");
        Files.writeString(file, "group=orders\nnode=arb1\nmembrs=x\n");
        assertThatThrownBy(() -> ArbitratorMain.load(file)).hasMessageContaining("unknown key(s) [membrs]");
        Files.writeString(file, "group=orders\nnode=arb1\n");
        assertThatThrownBy(() -> ArbitratorMain.load(file)).hasMessageContaining("lacks 'members'");
    }
}
