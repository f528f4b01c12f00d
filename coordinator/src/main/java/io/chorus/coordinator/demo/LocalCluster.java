package io.chorus.coordinator.demo;

import io.chorus.coordinator.config.NodeConfig;
import io.chorus.testkit.PgServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A cluster on this machine: N embedded PostgreSQL servers and N sidecars, each sidecar its own JVM process, on
 * loopback. Used by {@code chorus demo} and by the cluster tests. Everything it starts is stopped by {@link #close()}
 * (and by the JVM's shutdown hooks for the servers).
 */
public final class LocalCluster implements AutoCloseable {
    private final Path dir;
    private final String database;
    private final String group;
    private final List<PgServer> servers = new ArrayList<>();
    private final List<Process> sidecars = new ArrayList<>();
    private final List<Path> configs = new ArrayList<>();
    private final NodeNetwork network;
    private String classpath;

    private LocalCluster(Path dir, String database, String group, NodeNetwork network) {
        this.dir = dir;
        this.database = database;
        this.group = group;
        this.network = network;
    }

    /** Starts {@code n} PostgreSQL servers, creates {@code database} on each and writes the sidecar configurations. */
    public static LocalCluster create(int n, String database, String group) throws SQLException {
        return create(n, database, group, NodeNetwork.LOOPBACK);
    }

    /** As {@link #create(int, String, String)}, with the nodes placed on {@code network}. */
    public static LocalCluster create(int n, String database, String group, NodeNetwork network) throws SQLException {
        Path dir;
        try {
            dir = Files.createTempDirectory("chorus-cluster-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        LocalCluster c = new LocalCluster(dir, database, group, network);
        try {
            for (int i = 1; i <= n; i++) {
                PgServer.Builder b = PgServer.builder().name("node" + i).embedded();
                network.postgresSettings(i).forEach(b::setting);
                PgServer pg = b.start();
                c.servers.add(pg);
                network.postgresStarted(i, pg);
                pg.createDatabase(database);
            }
            c.writeConfigs();
        } catch (RuntimeException | SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void writeConfigs() {
        int offset = NodeConfig.Group.portOffset(group);
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i < servers.size(); i++) {
            ports.add(groupPort(ports, offset) - offset);
        }
        StringBuilder members = new StringBuilder();
        for (int i = 0; i < servers.size(); i++) {
            members.append("    node").append(i + 1).append(": ").append(network.groupAddress(i + 1)).append(':').append(ports.get(i)).append('\n');
        }
        for (int i = 0; i < servers.size(); i++) {
            String yaml = "node: node" + (i + 1) + "\n"
                    + "dataDir: node" + (i + 1) + "-data\n"
                    + "postgres:\n  host: " + network.postgresHost(i + 1) + "\n  port: " + servers.get(i).port() + "\n  user: postgres\n"
                    + "  databases: [" + database + "]\n"
                    + "group:\n  listen: " + network.groupAddress(i + 1) + ":" + ports.get(i) + "\n  fsync: false\n  members:\n" + members
                    + "apply:\n  helpers: 4\n";
            Path file = dir.resolve("node" + (i + 1) + ".yaml");
            try {
                Files.writeString(file, yaml, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            configs.add(file);
        }
    }

    /** Starts every sidecar process. */
    public void startSidecars() {
        for (int i = 0; i < servers.size(); i++) {
            sidecars.add(null);
            startSidecar(i + 1);
        }
    }

    /** Starts (or restarts) the sidecar of node {@code i} (1-based). */
    public void startSidecar(int i) {
        startSidecar(i, new String[0]);
    }

    /** Starts (or restarts) the sidecar of node {@code i} (1-based) with more options of {@code chorus run}. */
    public void startSidecar(int i, String... runOptions) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(network.launchPrefix(i));
        // a sidecar that runs out of heap leaves its heap in the cluster folder, next to its log
        // compiler threads kept for the JVM's life, so that the bench can count the JIT's CPU apart (a thread that
        // ends takes its CPU time out of /proc with it)
        command.addAll(List.of(java, "-Xmx512m", "-XX:-UseDynamicNumberOfCompilerThreads", "-XX:+HeapDumpOnOutOfMemoryError",
                "-XX:HeapDumpPath=" + dir.resolve("node" + i + ".hprof"),
                "-Dlog4j2.configurationFile=classpath:chorus-log4j2.xml"));
        // more JVM options for every sidecar, e.g. a flight recording while a benchmark runs
        String extra = System.getenv("CHORUS_SIDECAR_JAVA_OPTS");
        if (extra != null && !extra.isBlank()) {
            command.addAll(List.of(extra.trim().replace("{node}", Integer.toString(i)).split("\\s+")));
        }
        command.addAll(List.of("-cp", sidecarClasspath(),
                "io.chorus.coordinator.cli.ChorusCli", "run", "--config", configs.get(i - 1).toString()));
        command.addAll(List.of(runOptions));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("node" + i + ".log").toFile()));
        // the sidecar exits when this JVM does, even when this JVM is killed
        pb.environment().put("CHORUS_EXIT_WITH_PID", Long.toString(ProcessHandle.current().pid()));
        try {
            sidecars.set(i - 1, pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the sidecar of node" + i, e);
        }
    }

    /**
     * The sidecars' classpath: this JVM's, with every jar copied once into the cluster folder, so that a jar rebuilt
     * while the cluster runs (e.g. by {@code mvn install}) cannot change the classes a restarted sidecar loads.
     */
    private synchronized String sidecarClasspath() {
        if (classpath == null) {
            Path lib = dir.resolve("lib");
            List<String> entries = new ArrayList<>();
            int n = 0;
            for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                Path src = Path.of(entry);
                if (!entry.endsWith(".jar") || !Files.isRegularFile(src)) {
                    entries.add(entry);
                    continue;
                }
                Path copy = lib.resolve((n++) + "-" + src.getFileName());
                try {
                    Files.createDirectories(lib);
                    Files.copy(src, copy);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot copy " + src + " into the cluster folder " + lib, e);
                }
                entries.add(copy.toString());
            }
            classpath = String.join(java.io.File.pathSeparator, entries);
        }
        return classpath;
    }

    /** Kills node {@code i}'s sidecar with SIGKILL (a crash). */
    public void killSidecar(int i) throws InterruptedException {
        Process p = sidecars.get(i - 1);
        if (p != null) {
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Freezes node {@code i}'s sidecar (SIGSTOP): it neither captures, orders nor applies until {@link #resumeSidecar}. */
    public void pauseSidecar(int i) {
        signal(i, "STOP");
    }

    /** Thaws a sidecar frozen by {@link #pauseSidecar}. */
    public void resumeSidecar(int i) {
        signal(i, "CONT");
    }

    private void signal(int i, String signal) {
        Process p = sidecars.get(i - 1);
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException("the sidecar of node" + i + " is not running");
        }
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " of node" + i + "'s sidecar failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while signalling node" + i, e);
        }
    }

    /** The process id of node {@code i}'s sidecar JVM, or -1 when it was never started. */
    public long sidecarPid(int i) {
        Process p = sidecars.get(i - 1);
        return p == null ? -1 : p.pid();
    }

    public boolean sidecarAlive(int i) {
        Process p = sidecars.get(i - 1);
        return p != null && p.isAlive();
    }

    public int size() {
        return servers.size();
    }

    public PgServer server(int i) {
        return servers.get(i - 1);
    }

    public Connection connect(int i) throws SQLException {
        return servers.get(i - 1).connect(database);
    }

    /** node name → open connection to the replicated database, for every node (the caller closes them). */
    public Map<String, Connection> connectAll() throws SQLException {
        Map<String, Connection> out = new LinkedHashMap<>();
        for (int i = 1; i <= servers.size(); i++) {
            out.put("node" + i, connect(i));
        }
        return out;
    }

    public Path directory() {
        return dir;
    }

    public Path sidecarLog(int i) {
        return dir.resolve("node" + i + ".log");
    }

    public String database() {
        return database;
    }

    public String group() {
        return group;
    }

    /**
     * A port for a sidecar's group to bind (its listen port plus {@code offset}), free now and below this machine's
     * ephemeral range: a port of that range that is free when the configuration is written can be taken by any
     * outgoing connection (JDBC, the group's own) before the sidecar binds it. At least {@value #PORT_SPACING} away
     * from the ports in {@code chosen} (listen ports): each group of a sidecar binds its listen port plus its own offset.
     */
    private static int groupPort(List<Integer> chosen, int offset) {
        int[] ephemeral = ephemeralPorts();
        int lo = 10_000 + PORT_SPACING;
        int hi = ephemeral[0] - PORT_SPACING;
        if (hi - lo < 1_000) {
            lo = ephemeral[1] + PORT_SPACING;
            hi = 65_535 - PORT_SPACING;
        }
        for (int attempt = 0; attempt < 1_000 && hi - lo >= 1_000; attempt++) {
            int port = lo + java.util.concurrent.ThreadLocalRandom.current().nextInt(hi - lo + 1);
            boolean apart = chosen.stream().allMatch(c -> Math.abs(c + offset - port) >= PORT_SPACING);
            if (apart && bindable(port)) {
                return port;
            }
        }
        throw new IllegalStateException("no free port for the group on 127.0.0.1 between " + lo + " and " + hi
                + " (outside the ephemeral range " + ephemeral[0] + "-" + ephemeral[1] + ")");
    }

    private static final int PORT_SPACING = 100;

    /** This machine's ephemeral port range (Linux), else the Linux default. */
    private static int[] ephemeralPorts() {
        try {
            String[] range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return new int[]{Integer.parseInt(range[0]), Integer.parseInt(range[1])};
        } catch (IOException | RuntimeException e) {
            return new int[]{32_768, 60_999};
        }
    }

    private static boolean bindable(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < sidecars.size(); i++) {
            Process p = sidecars.get(i);
            if (p != null && p.isAlive()) {
                try {
                    signal(i + 1, "CONT"); // a frozen process cannot handle SIGTERM
                } catch (RuntimeException ignored) {
                    // best effort
                }
                p.destroy();
            }
        }
        for (Process p : sidecars) {
            if (p == null) {
                continue;
            }
            try {
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        for (PgServer s : servers) {
            s.close();
        }
    }
}
