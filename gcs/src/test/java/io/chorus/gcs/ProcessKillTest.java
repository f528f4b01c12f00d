package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Over TCP: a member process (first started, so normally the leader) killed with kill -9 and restarted. */
@Tag("slow")
class ProcessKillTest {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    private Process startProcess(TestCluster c, long resumeAfter, long firstSeq) throws IOException {
        String members = c.members.stream().map(Member::toString).collect(Collectors.joining(","));
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                MemberProcessMain.class.getName(), c.name, "n3", members, dir.resolve("n3").toString(),
                Long.toString(resumeAfter), Long.toString(firstSeq), dir.toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith("READY")) {
                        ready.complete(null);
                    }
                    if (!line.contains(" DEBUG ")) {
                        System.out.println("[n3 process] " + line);
                    }
                }
            } catch (IOException e) {
                ready.completeExceptionally(e);
            }
            ready.completeExceptionally(new AssertionError("n3 process ended before READY"));
        }, "n3-output");
        pump.setDaemon(true);
        pump.start();
        try {
            ready.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            p.destroyForcibly();
            throw new AssertionError("n3 process did not join within 60 s", e);
        }
        return p;
    }

    private List<RecordingListener.Delivery> processDeliveries() throws IOException {
        List<RecordingListener.Delivery> ds = new ArrayList<>();
        for (String line : Files.readAllLines(dir.resolve("deliveries-n3.txt"))) {
            String[] f = line.split(" ", 4);
            if (f.length == 4) {
                ds.add(new RecordingListener.Delivery(Long.parseLong(f[0]), f[1], Long.parseLong(f[2]), f[3]));
            }
        }
        return ds;
    }

    private long countLines() {
        try (var lines = Files.lines(dir.resolve("deliveries-n3.txt"))) {
            return lines.count();
        } catch (IOException e) {
            return -1;
        }
    }

    @Test
    @Timeout(300)
    void killedMemberProcessRestartsAndCatchesUp() throws Exception {
        try (TestCluster c = new TestCluster(dir, Transport.TCP, 3, b -> b.appendTimeout(Duration.ofSeconds(60)))) {
            Process p = startProcess(c, 0, 1);
            c.start(TestCluster.id(1), Gsn.NONE);
            c.start(TestCluster.id(2), Gsn.NONE);
            c.awaitPrimary(WAIT);
            boolean wasLeader = c.group(1).membership().leader().equals(java.util.Optional.of(NodeId.of("n3")));
            System.out.println("n3 is the leader before the kill: " + wasLeader);
            Writer w1 = new Writer(c.group(1), 20, 500);
            Writer w2 = new Writer(c.group(2), 20, 500);
            c.awaitAll(2_000, WAIT);
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            long killedAt = c.listener(1).lastGsn();
            System.out.println("killed n3 (kill -9) at about GSN " + killedAt);
            c.awaitAll(killedAt + 2_000, WAIT);

            long resume = processDeliveries().size();
            Process again = startProcess(c, resume, 1_000_000);
            long restartedAt = c.listener(1).lastGsn();
            System.out.println("restarted n3 at GSN " + restartedAt + " with " + resume + " delivered");
            Conditions.await("restarted n3 caught up to GSN " + restartedAt, WAIT,
                    () -> countLines() > restartedAt, () -> "n3 delivered " + countLines());
            System.out.println("n3 caught up: " + countLines() + " delivered, group at " + c.listener(1).lastGsn());
            c.awaitAll(restartedAt + 1_000, WAIT);
            System.out.println("group moved on to " + c.listener(1).lastGsn());
            w1.close();
            w2.close();
            again.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            Conditions.await("n1 and n2 settled on the same last GSN", WAIT, () -> {
                long l1 = c.listener(1).lastGsn();
                return l1 == c.listener(2).lastGsn() && l1 == c.group(1).appliedGsn().value()
                        && l1 == c.group(2).appliedGsn().value();
            }, c::describe);

            List<RecordingListener.Delivery> seq = c.listener(1).deliveries();
            Checks.gapFreeAndDuplicateFree(seq, 1);
            assertThat(c.listener(2).deliveries()).isEqualTo(seq);
            List<RecordingListener.Delivery> fromProcess = processDeliveries();
            assertThat(fromProcess.size()).as("the restarted member caught up past the restart point")
                    .isGreaterThan((int) restartedAt);
            assertThat(fromProcess).as("n3's deliveries across both runs are the group's sequence")
                    .isEqualTo(seq.subList(0, fromProcess.size()));
            Set<String> delivered = new HashSet<>();
            seq.forEach(d -> delivered.add(d.origin() + "/" + d.seq()));
            List<String> acked = new ArrayList<>();
            Files.readAllLines(dir.resolve("acks-n3.txt")).forEach(s -> acked.add("n3/" + s.trim()));
            w1.acked().forEach(s -> acked.add("n1/" + s));
            w2.acked().forEach(s -> acked.add("n2/" + s));
            for (String a : acked) {
                if (!delivered.contains(a) && !a.startsWith("n3/")) {
                    long s = Long.parseLong(a.substring(3));
                    long g = (a.startsWith("n1/") ? w1 : w2).ackedGsn(s);
                    System.out.println("MISSING " + a + " acked with GSN " + g + "; delivered there: "
                            + (g > 0 && g <= seq.size() ? seq.get((int) g - 1) : "-") + "; neighbours: "
                            + seq.stream().filter(d -> d.origin().equals(a.substring(0, 2))
                            && Math.abs(d.seq() - s) <= 2).toList());
                }
            }
            assertThat(acked.stream().filter(a -> !delivered.contains(a)).toList())
                    .as("acknowledged appends not delivered (of %d)", acked.size()).isEmpty();
            assertThat(seq).anyMatch(d -> d.origin().equals("n3") && d.seq() >= 1_000_000);
        }
    }
}
