package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * {@code chorus arbitrator}: a voting member with no database (like Galera's garbd). It stores the log and votes, so
 * two data nodes plus an arbitrator survive the loss of either data node; it delivers nothing anywhere.
 *
 * <p>Configuration file (Java properties; unknown keys are rejected):
 * <pre>
 * group=orders                       # group name (required)
 * node=arb1                          # this member's node id (required)
 * members=n1=10.0.0.1:7800,n2=10.0.0.2:7800,arb1=10.0.0.3:7800   (required)
 * data-dir=/var/lib/chorus/arb1      # where the log is kept (required)
 * identity=&lt;uuid&gt;                    # group identity (default: adopt the group's)
 * protocol-version=4                 # default: this build's (GroupConfig.PROTOCOL_VERSION)
 * secret-file=/etc/chorus/secret     # file holding the shared secret (default: none)
 * fsync=true                         # default true
 * transport=TCP                      # TCP (default) or IN_JVM (tests)
 * </pre>
 */
public final class ArbitratorMain {
    private static final Logger LOG = LogManager.getLogger(ArbitratorMain.class);
    private static final Set<String> KEYS = Set.of("group", "node", "members", "data-dir", "identity",
            "protocol-version", "secret-file", "fsync", "transport");

    private ArbitratorMain() {
    }

    /** Reads and validates a configuration file (see the class comment). */
    public static GroupConfig load(Path file) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read arbitrator configuration " + file + ": " + e.getMessage(), e);
        }
        Set<String> unknown = new TreeSet<>(p.stringPropertyNames());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("unknown key(s) " + unknown + " in " + file + "; known keys: "
                    + new TreeSet<>(KEYS));
        }
        Map<String, String> m = new java.util.HashMap<>();
        p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k).trim()));
        return config(m);
    }

    /** Builds the configuration from the keys of the class comment. */
    public static GroupConfig config(Map<String, String> m) {
        String group = required(m, "group");
        NodeId node = NodeId.of(required(m, "node"));
        List<Member> members = new ArrayList<>();
        for (String s : required(m, "members").split(",")) {
            members.add(Member.parse(s.trim()));
        }
        GroupConfig.Builder b = GroupConfig.builder(group, node, Path.of(required(m, "data-dir")))
                .members(members).voting(true)
                .transport(Transport.valueOf(m.getOrDefault("transport", "TCP")))
                .protocolVersion(Integer.parseInt(m.getOrDefault("protocol-version",
                        Integer.toString(GroupConfig.PROTOCOL_VERSION))))
                .fsync(Boolean.parseBoolean(m.getOrDefault("fsync", "true")));
        if (m.containsKey("identity")) {
            b.groupIdentity(UUID.fromString(m.get("identity")));
        }
        if (m.containsKey("secret-file")) {
            b.sharedSecret(readSecret(Path.of(m.get("secret-file"))));
        }
        return b.build();
    }

    private static String readSecret(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the shared secret from " + file + ": " + e.getMessage(), e);
        }
    }

    private static String required(Map<String, String> m, String key) {
        String v = m.get(key);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("arbitrator configuration lacks '" + key + "'");
        }
        return v;
    }

    /** Joins the group as an arbitrator and returns the running member (close it to leave). */
    public static Group start(GroupConfig cfg) {
        Group g = Group.join(cfg, new Silent(cfg.self()), Gsn.NONE);
        LOG.info("arbitrator {} running in group '{}': {}", cfg.self(), cfg.groupName(), g.membership());
        return g;
    }

    /** Runs an arbitrator until the process is stopped (SIGTERM leaves the group cleanly); returns the exit code. */
    public static int run(GroupConfig cfg) throws InterruptedException {
        Group g = start(cfg);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            g.close();
            stopped.countDown();
        }, "chorus-arbitrator-shutdown"));
        stopped.await();
        return 0;
    }

    /** Delivers nowhere; reports membership changes in the log. */
    private record Silent(NodeId self) implements GroupListener {
        @Override
        public void onDelivered(Gsn gsn, NodeId origin, long originSeq, byte[] payload) {
            // an arbitrator only stores and votes
        }

        @Override
        public void onMembership(Membership m) {
            LOG.info("arbitrator {}: {}", self, m);
        }

        @Override
        public void onFullTransferNeeded(String reason) {
            LOG.info("arbitrator {}: log compacted on the leader ({}); nothing to transfer", self, reason);
        }
    }

}
