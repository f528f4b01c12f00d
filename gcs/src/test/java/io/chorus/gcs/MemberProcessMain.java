package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A group member in its own process, for kill -9 tests. Arguments: group, node, members (id=host:port,...), data
 * dir, resumeAfter GSN, first originSeq, output dir. Writes every delivery to {@code deliveries-<node>.txt} (one line
 * "gsn origin seq payload", written through at once; a payload's first 1,000 bytes) and every acknowledged append to {@code acks-<node>.txt};
 * appends records (at most 20 unacknowledged) until it is killed. Prints READY once joined.
 */
public final class MemberProcessMain {

    private MemberProcessMain() {
    }

    public static void main(String[] args) throws Exception {
        String group = args[0];
        NodeId node = NodeId.of(args[1]);
        List<Member> members = new ArrayList<>();
        for (String m : args[2].split(",")) {
            members.add(Member.parse(m));
        }
        Path out = Path.of(args[6]);
        OutputStream deliveries = new FileOutputStream(out.resolve("deliveries-" + node + ".txt").toFile(), true);
        OutputStream acks = new FileOutputStream(out.resolve("acks-" + node + ".txt").toFile(), true);
        GroupConfig cfg = GroupConfig.builder(group, node, Path.of(args[3])).members(members)
                .appendTimeout(Duration.ofSeconds(60)).createsIdentity(args.length < 8 || Boolean.parseBoolean(args[7]))
                .build();
        Group g = Group.join(cfg, new GroupListener() {
            @Override
            public void onDelivered(Gsn gsn, NodeId origin, long originSeq, byte[] payload) {
                write(deliveries, gsn + " " + origin + " " + originSeq + " "
                        + new String(payload, 0, Math.min(payload.length, 1_000), StandardCharsets.UTF_8) + "\n");
            }

            @Override
            public void onMembership(Membership m) {
                System.out.println("MEMBERSHIP " + m);
            }

            @Override
            public void onFullTransferNeeded(String reason) {
                System.out.println("TRANSFER " + reason);
            }
        }, Gsn.of(Long.parseLong(args[4])));
        System.out.println("READY " + g.membership());
        System.out.flush();
        Semaphore window = new Semaphore(20);
        for (long seq = Long.parseLong(args[5]); ; seq++) {
            while (!window.tryAcquire(1, TimeUnit.SECONDS)) {
                System.out.println("WAITING for acknowledgements at seq " + seq);
            }
            long s = seq;
            g.append(s, Writer.payload(node.value(), s)).whenComplete((gsn, err) -> {
                window.release();
                if (err == null) {
                    write(acks, s + "\n");
                }
            });
        }
    }

    private static synchronized void write(OutputStream out, String line) {
        try {
            out.write(line.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
