package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Three members in one JVM: appends from every member are delivered in one order everywhere. */
class BasicOrderTest {
    @TempDir
    Path dir;

    @Test
    @Timeout(120)
    void appendsFromEveryMemberAreDeliveredInOneOrder() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.IN_JVM, 3, b -> b)) {
            c.startAll();
            c.awaitPrimary(Duration.ofSeconds(30));
            List<CompletableFuture<Gsn>> acks = new ArrayList<>();
            for (int i = 1; i <= 100; i++) {
                for (int m = 1; m <= 3; m++) {
                    acks.add(c.group(m).append(i, ("n" + m + ":" + i).getBytes(StandardCharsets.UTF_8)));
                }
            }
            for (CompletableFuture<Gsn> f : acks) {
                assertThat(f.get().value()).isBetween(1L, 300L);
            }
            c.awaitAll(300, Duration.ofSeconds(30));
            var first = c.listener(1).deliveries();
            assertThat(first).hasSize(300);
            for (int i = 0; i < first.size(); i++) {
                assertThat(first.get(i).gsn()).isEqualTo(i + 1);
            }
            assertThat(c.listener(2).deliveries()).isEqualTo(first);
            assertThat(c.listener(3).deliveries()).isEqualTo(first);
        }
    }
}
