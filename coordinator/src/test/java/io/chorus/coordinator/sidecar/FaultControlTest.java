package io.chorus.coordinator.sidecar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.coordinator.config.ConfigLoader;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.gcs.Group;
import io.chorus.gcs.GroupConfig;
import io.chorus.gcs.GroupListener;
import io.chorus.gcs.Member;
import io.chorus.gcs.Membership;
import io.chorus.gcs.Transport;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The test fault control end to end, in one JVM: three members of a real group over TCP on loopback, each with its
 * own control file as a sidecar has it; the harness's requests cut {n1,n2}|{n3} symmetrically (the minority loses the
 * leader, its append waits while the majority commits), then heal (the waiting append commits, every member delivers
 * the same sequence).
 */
class FaultControlTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final Duration ACK = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    /** Records what a member delivers, for comparison. */
    static final class Recorder implements GroupListener {
        final List<String> delivered = new CopyOnWriteArrayList<>();

        @Override
        public void onDelivered(Gsn gsn, NodeId origin, long originSeq, byte[] payload) {
            delivered.add(gsn.value() + ":" + new String(payload, StandardCharsets.UTF_8));
        }

        @Override
        public void onMembership(Membership membership) {
        }

        @Override
        public void onFullTransferNeeded(String reason) {
        }
    }

    @Test
    @Timeout(180)
    void cutIsSymmetricAndHeals() throws Exception {
        List<Member> members = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            members.add(new Member(id(i), "127.0.0.1", freePort()));
        }
        Map<Integer, Group> groups = new LinkedHashMap<>();
        Map<Integer, Recorder> recorders = new LinkedHashMap<>();
        Map<Integer, FaultControl> controls = new LinkedHashMap<>();
        try {
            for (int i = 1; i <= 3; i++) {
                Path file = dir.resolve("node" + i + ".faults");
                controls.put(i, new FaultControl(id(i), file));
                controls.get(i).start();
                recorders.put(i, new Recorder());
                groups.put(i, Group.join(GroupConfig.builder("fc", id(i), dir.resolve("n" + i)).transport(Transport.TCP)
                        .members(members).fsync(false).appendTimeout(Duration.ofSeconds(90)).build(), recorders.get(i), Gsn.NONE));
            }
            await("all three primary", () -> groups.values().stream().allMatch(Group::isPrimary), () -> describe(groups));
            groups.get(1).append(1, "before".getBytes(StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);

            assertThat(request(1, Set.of(id(3))).groups()).containsExactly("fc");
            assertThat(request(2, Set.of(id(3))).groups()).containsExactly("fc");
            assertThat(request(3, Set.of(id(1), id(2))).groups()).containsExactly("fc");
            await("n3 outside the primary component, n1 and n2 inside it",
                    () -> !groups.get(3).isPrimary() && groups.get(1).isPrimary() && groups.get(2).isPrimary(),
                    () -> describe(groups));
            assertThat(groups.get(3).membership().present()).containsExactly(id(3));
            CompletableFuture<Gsn> minority = groups.get(3).append(1, "minority".getBytes(StandardCharsets.UTF_8));
            Gsn majority = groups.get(2).append(1, "majority".getBytes(StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS);
            assertThat(majority.value()).isEqualTo(2);
            assertThat(minority).as("the minority's append waits for the heal").isNotDone();

            for (int i = 1; i <= 3; i++) {
                assertThat(request(i, Set.of()).groups()).containsExactly("fc");
            }
            assertThat(minority.get(90, TimeUnit.SECONDS).value()).isEqualTo(3);
            await("every member delivered 3 records", () -> recorders.values().stream().allMatch(r -> r.delivered.size() == 3),
                    () -> recorders.toString());
            List<String> expected = List.of("1:before", "2:majority", "3:minority");
            recorders.values().forEach(r -> assertThat(r.delivered).isEqualTo(expected));
        } finally {
            groups.values().forEach(Group::close);
            controls.values().forEach(FaultControl::close);
        }
    }

    @Test
    void aRequestNobodyWatchesFailsNamingTheFile() {
        Path file = dir.resolve("nobody.faults");
        assertThatThrownBy(() -> FaultControl.request(file, Set.of(id(2)), Duration.ofMillis(500)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("no acknowledgement of fault request")
                .hasMessageContaining("testing.faultControl = " + file);
    }

    @Test
    void aMalformedRequestIsAnsweredWithAnError() throws Exception {
        Path file = dir.resolve("bad.faults");
        try (FaultControl control = new FaultControl(id(1), file)) {
            control.start();
            Files.writeString(file, "sequence=1\ncut=Not A Node\n");
            Path ack = FaultControl.ackFile(file);
            await("the error acknowledgement", () -> Files.exists(ack) && read(ack).contains("error="), () -> read(ack));
            assertThat(read(ack)).startsWith("sequence=1\n").contains("error=");
        }
    }

    @Test
    void theConfigurationKeyIsOffByDefaultAndResolvedBesideTheFile() throws IOException {
        String yaml = "node: node1\ndataDir: data\npostgres:\n  databases: [app]\n"
                + "group:\n  listen: 127.0.0.1:7800\n  members:\n    node1: 127.0.0.1:7800\n";
        Path plain = Files.writeString(dir.resolve("plain.yaml"), yaml);
        assertThat(ConfigLoader.load(plain, Map.of(), Map.of()).faultControl()).isNull();
        Path testing = Files.writeString(dir.resolve("testing.yaml"), yaml + "testing:\n  faultControl: node1.faults\n");
        NodeConfig cfg = ConfigLoader.load(testing, Map.of(), Map.of());
        assertThat(cfg.faultControl()).isEqualTo(dir.toAbsolutePath().resolve("node1.faults"));
        assertThat(cfg.describe()).contains("testing.faultControl=" + cfg.faultControl());
        Path typo = Files.writeString(dir.resolve("typo.yaml"), yaml + "testing:\n  faultControls: x\n");
        assertThatThrownBy(() -> ConfigLoader.load(typo, Map.of(), Map.of()))
                .hasMessageContaining("unknown configuration key 'testing.faultControls'");
    }

    private FaultControl.Ack request(int node, Set<NodeId> cut) throws InterruptedException {
        return FaultControl.request(dir.resolve("node" + node + ".faults"), cut, ACK);
    }

    private static String describe(Map<Integer, Group> groups) {
        StringBuilder sb = new StringBuilder();
        groups.forEach((i, g) -> sb.append("n").append(i).append(": ").append(g.membership()).append('\n'));
        return sb.toString();
    }

    private static String read(Path f) {
        try {
            return Files.exists(f) ? Files.readString(f) : "(no file)";
        } catch (IOException e) {
            return "(unreadable: " + e + ")";
        }
    }

    private static void await(String what, BooleanSupplier condition, Supplier<String> state) {
        try {
            Awaitility.await(what).atMost(WAIT).pollInterval(Duration.ofMillis(50)).until(condition::getAsBoolean);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("timed out after " + WAIT.toSeconds() + " s waiting for " + what + "; state:\n"
                    + state.get(), e);
        }
    }

    private static NodeId id(int i) {
        return NodeId.of("n" + i);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
