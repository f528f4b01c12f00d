package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.coordinator.cli.ChorusCli;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Fast-tier smoke test: {@code chorus demo} in process (3 nodes, 8 s of conflicting writes) ends converged. */
class DemoIT {

    @Test
    void demoConverges() {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        PrintStream original = System.out;
        int code;
        System.setOut(new PrintStream(buffer, true, StandardCharsets.UTF_8));
        try {
            code = ChorusCli.execute("demo", "--duration", "8s", "--seed", "7");
        } finally {
            System.setOut(original);
        }
        String out = buffer.toString(StandardCharsets.UTF_8);
        original.println(out);
        assertThat(out).contains("transactions committed:");
        assertThat(out).as("demo output:%n%s", out).contains("verdict: converged");
        assertThat(code).isZero();
    }
}
