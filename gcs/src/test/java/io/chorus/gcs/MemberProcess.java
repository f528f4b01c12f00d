package io.chorus.gcs;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * A group member running {@link MemberProcessMain} in its own JVM (tests): started until it printed READY, its
 * deliveries and acknowledged appends read back from the files it writes, and signals (kill -9, SIGSTOP, SIGCONT).
 */
final class MemberProcess {
    private final String node;
    private final Path dir;
    private final Process process;
    private final AtomicBoolean outOfMemory;

    private MemberProcess(String node, Path dir, Process process, AtomicBoolean oom) {
        this.node = node;
        this.dir = dir;
        this.process = process;
        this.outOfMemory = oom;
    }

    /** Starts {@code node} of cluster {@code c}; waits (at most 60 s) until it joined. */
    static MemberProcess start(TestCluster c, String node, long resumeAfter, long firstSeq) throws IOException {
        return start(c, node, resumeAfter, firstSeq, true);
    }

    /**
     * As {@link #start(TestCluster, String, long, long)}; {@code createsIdentity} false for a member that joins a
     * group already formed: on a loaded machine its discovery may time out before it finds the others, and a member
     * that may create an identity then forms a group of its own, which the others refuse ever after.
     */
    static MemberProcess start(TestCluster c, String node, long resumeAfter, long firstSeq, boolean createsIdentity)
            throws IOException {
        String members = c.members.stream().map(Member::toString).collect(Collectors.joining(","));
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                MemberProcessMain.class.getName(), c.name, node, members, c.dir.resolve(node).toString(),
                Long.toString(resumeAfter), Long.toString(firstSeq), c.dir.toString(), Boolean.toString(createsIdentity));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        AtomicBoolean oom = new AtomicBoolean();
        Thread pump = new Thread(() -> pump(p, node, ready, oom), node + "-output");
        pump.setDaemon(true);
        pump.start();
        try {
            ready.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new AssertionError(node + " process did not join within 60 s", e);
        }
        return new MemberProcess(node, c.dir, p, oom);
    }

    private static void pump(Process p, String node, CompletableFuture<Void> ready,
            AtomicBoolean oom) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("READY")) {
                    ready.complete(null);
                }
                if (line.contains("OutOfMemoryError")) {
                    oom.set(true);
                }
                if (!line.contains(" DEBUG ")) {
                    System.out.println("[" + node + " process] " + line);
                }
            }
        } catch (IOException e) {
            ready.completeExceptionally(e);
        }
        ready.completeExceptionally(new AssertionError(node + " process ended before READY"));
    }

    /** Everything the process delivered so far (across its runs). */
    List<RecordingListener.Delivery> deliveries() throws IOException {
        List<RecordingListener.Delivery> ds = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("deliveries-" + node + ".txt"))) {
            String[] f = line.split(" ", 4);
            if (f.length == 4) {
                ds.add(new RecordingListener.Delivery(Long.parseLong(f[0]), f[1], Long.parseLong(f[2]), f[3]));
            }
        }
        return ds;
    }

    /** How many records the process delivered so far (-1 if the file cannot be read). */
    long delivered() {
        try (var lines = Files.lines(dir.resolve("deliveries-" + node + ".txt"))) {
            return lines.count();
        } catch (IOException e) {
            return -1;
        }
    }

    /** "node/seq" of every append the process saw acknowledged. */
    List<String> acked() throws IOException {
        List<String> acked = new ArrayList<>();
        Files.readAllLines(dir.resolve("acks-" + node + ".txt")).forEach(s -> acked.add(node + "/" + s.trim()));
        return acked;
    }

    /** Whether the process reported an OutOfMemoryError. */
    boolean outOfMemory() {
        return outOfMemory.get();
    }

    /** kill -9, and waits (at most 30 s) for the process to end. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }

    /** Freezes the process (SIGSTOP). */
    void freeze() throws IOException, InterruptedException {
        signal("STOP");
    }

    /** Lets a frozen process run again (SIGCONT). */
    void thaw() throws IOException, InterruptedException {
        signal("CONT");
    }

    private void signal(String name) throws IOException, InterruptedException {
        Process k = new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).inheritIO().start();
        if (!k.waitFor(10, TimeUnit.SECONDS) || k.exitValue() != 0) {
            throw new AssertionError("kill -" + name + " " + process.pid() + " failed");
        }
    }
}
