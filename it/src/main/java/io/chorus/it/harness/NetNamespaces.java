package io.chorus.it.harness;

import io.chorus.coordinator.demo.NodeNetwork;
import io.chorus.testkit.PgServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Every node's sidecar in its own network namespace ({@code ip netns}), joined to the host by a veth pair on one
 * bridge: node i has address 10.200.k.(10+i), the host (where the PostgreSQL servers listen) 10.200.k.1. A partition
 * adds blackhole routes inside the namespaces for the addresses on the other side; heal removes them. Needs root and
 * {@code ip}; {@link #unavailableReason()} says why not otherwise. Not thread-safe: one test thread drives it.
 */
public final class NetNamespaces implements NodeNetwork, AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(NetNamespaces.class);
    private final int k;
    private final int nodes;
    private final List<String[]> blackholes = new ArrayList<>();
    private boolean created;
    private boolean forwardRule;

    private NetNamespaces(int k, int nodes) {
        this.k = k;
        this.nodes = nodes;
    }

    /** Why namespaces cannot be used here, or null when they can. */
    public static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "network namespaces need root (running as " + System.getProperty("user.name") + ")";
        }
        try {
            run(List.of("ip", "netns", "list"));
            return null;
        } catch (IllegalStateException e) {
            return "`ip netns` is not available: " + e.getMessage();
        }
    }

    /** Creates the bridge and one namespace per node; {@link #close()} removes them. */
    public static NetNamespaces create(int nodes) {
        NetNamespaces n = new NetNamespaces(ThreadLocalRandom.current().nextInt(1, 250), nodes);
        try {
            n.setUp();
        } catch (RuntimeException e) {
            n.close();
            throw e;
        }
        return n;
    }

    private void setUp() {
        created = true;
        run(List.of("ip", "link", "add", bridge(), "type", "bridge"));
        run(List.of("ip", "addr", "add", hostAddress() + "/24", "dev", bridge()));
        run(List.of("ip", "link", "set", bridge(), "up"));
        for (int i = 1; i <= nodes; i++) {
            run(List.of("ip", "netns", "add", namespace(i)));
            run(List.of("ip", "link", "add", "ch" + k + "v" + i, "type", "veth", "peer", "name", "eth0", "netns", namespace(i)));
            run(List.of("ip", "link", "set", "ch" + k + "v" + i, "master", bridge(), "up"));
            run(List.of("ip", "-n", namespace(i), "addr", "add", groupAddress(i) + "/24", "dev", "eth0"));
            run(List.of("ip", "-n", namespace(i), "link", "set", "eth0", "up"));
            run(List.of("ip", "-n", namespace(i), "link", "set", "lo", "up"));
        }
        acceptBridgedTraffic();
        LOG.info("network namespaces {}n1..{} on bridge {} ({}/24)", "ch" + k, nodes, bridge(), hostAddress());
    }

    /**
     * Where bridged frames pass through iptables (br_netfilter loaded, as a Docker engine does) and the FORWARD
     * policy drops them (Docker's default), the nodes could not reach each other: let this bridge's own traffic pass.
     */
    private void acceptBridgedTraffic() {
        Path flag = Path.of("/proc/sys/net/bridge/bridge-nf-call-iptables");
        try {
            if (!Files.isReadable(flag) || !Files.readString(flag).trim().equals("1")) {
                return;
            }
        } catch (IOException e) {
            return;
        }
        if (!onPath("iptables")) {
            // no iptables on this host: nothing set a FORWARD policy through it (a Docker engine needs it)
            LOG.info("bridged frames pass through netfilter but iptables is not installed: no FORWARD rule added for {}",
                    bridge());
            return;
        }
        run(List.of("iptables", "-I", "FORWARD", "-i", bridge(), "-o", bridge(), "-j", "ACCEPT"));
        forwardRule = true;
    }

    private static boolean onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "") + java.io.File.pathSeparator + "/usr/sbin:/sbin";
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** Cuts every path between {@code sideA} and {@code sideB} (1-based node numbers), in both directions. */
    public void partition(Collection<Integer> sideA, Collection<Integer> sideB) {
        for (int a : sideA) {
            for (int b : sideB) {
                blackhole(a, b);
                blackhole(b, a);
            }
        }
        LOG.info("partitioned {} | {}", sideA, sideB);
    }

    private void blackhole(int from, int to) {
        String[] route = {namespace(from), groupAddress(to) + "/32"};
        run(List.of("ip", "-n", route[0], "route", "add", "blackhole", route[1]));
        blackholes.add(route);
    }

    /** Removes every cut made by {@link #partition}. */
    public void heal() {
        for (String[] r : blackholes) {
            run(List.of("ip", "-n", r[0], "route", "del", "blackhole", r[1]));
        }
        blackholes.clear();
        LOG.info("partition healed");
    }

    public String namespace(int i) {
        return "ch" + k + "n" + i;
    }

    private String bridge() {
        return "chb" + k;
    }

    private String hostAddress() {
        return "10.200." + k + ".1";
    }

    @Override
    public String groupAddress(int i) {
        return "10.200." + k + "." + (10 + i);
    }

    @Override
    public String postgresHost(int i) {
        return hostAddress();
    }

    @Override
    public Map<String, String> postgresSettings(int i) {
        return Map.of("listen_addresses", "'127.0.0.1," + hostAddress() + "'");
    }

    @Override
    public void postgresStarted(int i, PgServer server) {
        String rules = "host all all 10.200." + k + ".0/24 trust\nhost replication all 10.200." + k + ".0/24 trust\n";
        try (Connection c = server.connect()) {
            Files.writeString(server.dataDir().resolve("pg_hba.conf"), rules, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
            Sql.one(c, "SELECT pg_reload_conf()::text");
        } catch (IOException | SQLException e) {
            throw new IllegalStateException("cannot let node" + i + "'s namespace reach PostgreSQL " + server.name()
                    + " (pg_hba.conf in " + server.dataDir() + "): " + e.getMessage(), e);
        }
    }

    @Override
    public List<String> launchPrefix(int i) {
        return List.of("ip", "netns", "exec", namespace(i));
    }

    @Override
    public void close() {
        if (!created) {
            return;
        }
        for (int i = 1; i <= nodes; i++) {
            quietly(List.of("ip", "netns", "del", namespace(i)));
        }
        quietly(List.of("ip", "link", "del", bridge()));
        if (forwardRule) {
            quietly(List.of("iptables", "-D", "FORWARD", "-i", bridge(), "-o", bridge(), "-j", "ACCEPT"));
            forwardRule = false;
        }
        created = false;
    }

    private static void quietly(List<String> command) {
        try {
            run(command);
        } catch (IllegalStateException e) {
            LOG.warn("cleanup step failed: {}", e.getMessage());
        }
    }

    static void run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " did not finish within 20 s");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed (exit " + p.exitValue() + "): " + out);
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", command), e);
        }
    }
}
