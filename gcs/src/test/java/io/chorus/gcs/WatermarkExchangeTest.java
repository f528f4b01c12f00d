package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watermark exchange beside the log: every member sees the W the present members announced, also without a
 * primary component (two of three members stopped), and forgets the members that left its view.
 */
class WatermarkExchangeTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void membersSeeEachOthersWatermarkWithAndWithoutAPrimaryComponent() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 3, b -> b)) {
            c.startAll();
            c.awaitPrimary(Duration.ofSeconds(30));
            for (int m = 1; m <= 3; m++) {
                c.group(m).announceWatermark(Gsn.of(100L * m));
            }
            Map<io.chorus.changeset.NodeId, Gsn> expected = Map.of(TestCluster.id(1), Gsn.of(100),
                    TestCluster.id(2), Gsn.of(200), TestCluster.id(3), Gsn.of(300));
            Conditions.await("member 1 to see every member's W", Duration.ofSeconds(30),
                    () -> c.group(1).announcedWatermarks().equals(expected), () -> c.group(1).announcedWatermarks().toString());
            c.stop(TestCluster.id(2));
            c.stop(TestCluster.id(3));
            Conditions.await("member 1, alone and outside a primary component, to see only its own W", Duration.ofSeconds(60),
                    () -> !c.group(1).isPrimary() && c.group(1).announcedWatermarks().equals(Map.of(TestCluster.id(1), Gsn.of(100))),
                    () -> c.group(1).membership() + " " + c.group(1).announcedWatermarks());
            c.start(TestCluster.id(3), Gsn.NONE).announceWatermark(Gsn.of(350));
            Conditions.await("member 1 to see the W of member 3, back after its stop", Duration.ofSeconds(60),
                    () -> Gsn.of(350).equals(c.group(1).announcedWatermarks().get(TestCluster.id(3))),
                    () -> c.group(1).membership() + " " + c.group(1).announcedWatermarks());
        }
    }
}
