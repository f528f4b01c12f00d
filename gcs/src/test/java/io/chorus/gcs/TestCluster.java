package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/** A group of members in this JVM (IN_JVM or TCP on loopback), each with its own data dir and recording listener. */
final class TestCluster implements AutoCloseable {
    final String name;
    final Path dir;
    final Transport transport;
    final List<Member> members = new ArrayList<>();
    final Map<NodeId, Group> groups = new LinkedHashMap<>();
    final Map<NodeId, RecordingListener> listeners = new LinkedHashMap<>();
    private final UnaryOperator<GroupConfig.Builder> tweak;

    TestCluster(Path dir, Transport transport, int n, UnaryOperator<GroupConfig.Builder> tweak) throws IOException {
        this.name = "t" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL);
        this.dir = dir;
        this.transport = transport;
        this.tweak = tweak;
        java.util.Set<Integer> taken = new java.util.HashSet<>();
        for (int i = 1; i <= n; i++) {
            int port = freePort();
            while (!taken.add(port)) { // the system may hand out a port it just gave another member
                port = freePort();
            }
            members.add(new Member(NodeId.of("n" + i), "127.0.0.1", port));
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static byte[] text(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Appends one record and waits (at most 60 s) for its GSN. */
    static Gsn ack(Group g, long seq, String payload) throws Exception {
        return g.append(seq, text(payload)).get(60, java.util.concurrent.TimeUnit.SECONDS);
    }

    static NodeId id(int i) {
        return NodeId.of("n" + i);
    }

    GroupConfig config(NodeId id) {
        GroupConfig.Builder b = GroupConfig.builder(name, id, dir.resolve(id.value())).transport(transport)
                .members(members).appendTimeout(Duration.ofSeconds(30)).fsync(false);
        return tweak.apply(b).build();
    }

    Group start(NodeId id, Gsn resumeAfter) {
        return start(id, resumeAfter, null);
    }

    /** Starts a member whose database holds {@code database} beside its log (null: only the log counts). */
    Group start(NodeId id, Gsn resumeAfter, History.Held database) {
        RecordingListener l = new RecordingListener();
        Group g = Group.join(config(id), l, resumeAfter, database);
        groups.put(id, g);
        listeners.put(id, l);
        return g;
    }

    void startAll() {
        for (Member m : members) {
            start(m.id(), Gsn.NONE);
        }
    }

    Group group(int i) {
        return groups.get(id(i));
    }

    RecordingListener listener(int i) {
        return listeners.get(id(i));
    }

    void stop(NodeId id) {
        Group g = groups.remove(id);
        if (g != null) {
            g.close();
        }
    }

    void awaitPrimary(Duration timeout) throws InterruptedException {
        Conditions.await("all running members primary", timeout,
                () -> groups.values().stream().allMatch(Group::isPrimary), this::describe);
    }

    /** Waits until every running member delivered at least up to {@code gsn}. */
    void awaitAll(long gsn, Duration timeout) throws InterruptedException {
        Conditions.await("all running members at GSN " + gsn, timeout,
                () -> groups.keySet().stream().allMatch(id -> listeners.get(id).lastGsn() >= gsn), this::describe);
    }

    String describe() {
        return groups.entrySet().stream().map(e -> e.getKey() + ": " + e.getValue().membership() + " delivered "
                + listeners.get(e.getKey()).lastGsn()).collect(Collectors.joining("; "));
    }

    @Override
    public void close() {
        for (Group g : new ArrayList<>(groups.values())) {
            g.close();
        }
        groups.clear();
    }
}
