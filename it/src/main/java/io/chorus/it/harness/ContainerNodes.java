package io.chorus.it.harness;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.Ports;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.testkit.PgServer.StopMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * The container backend ({@code -Dchorus.backend=containers}): node i is a PostgreSQL container {@code pg<i>} and a
 * sidecar container {@code sidecar<i>} on one Docker network of the cluster; tests reach each server through its
 * published port. The sidecar runs this JVM's classpath (copied into the container) on a Java 17 image. Images:
 * {@code -Dchorus.containers.postgresImage} (default {@value #DEFAULT_POSTGRES_IMAGE}, any image with that image's
 * contract) and {@code -Dchorus.containers.javaImage} (default {@value #DEFAULT_JAVA_IMAGE});
 * {@code it/containers/build-local-image.sh} builds one image for both roles from this host's binaries, for Docker
 * hosts without a registry. Faults act on the containers: SIGKILL, SIGQUIT (immediate shutdown), docker stop (fast
 * shutdown), SIGSTOP/SIGCONT.
 */
final class ContainerNodes implements ClusterNodes {
    static final String DEFAULT_POSTGRES_IMAGE = "postgres:17";
    static final String DEFAULT_JAVA_IMAGE = "eclipse-temurin:17-jre";
    private static final Logger LOG = LogManager.getLogger(ContainerNodes.class);
    private static final int PG_PORT = 5432;
    private static final int GROUP_PORT = 7800;
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);
    private final String database;
    private final Path dir;
    private final Network network = Network.newNetwork();
    private final List<GenericContainer<?>> servers = new ArrayList<>();
    private final List<GenericContainer<?>> sidecars = new ArrayList<>();
    private final List<String> configs = new ArrayList<>();
    private boolean closed;

    private ContainerNodes(String database, Path dir) {
        this.database = database;
        this.dir = dir;
    }

    static ContainerNodes create(int n, String database) throws SQLException {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            throw new IllegalStateException("-D" + BACKEND_PROPERTY + "=containers needs a Docker engine and none answered "
                    + "(DOCKER_HOST=" + System.getenv("DOCKER_HOST") + "); start one, or run with the default backend");
        }
        ContainerNodes c;
        try {
            c = new ContainerNodes(database, Files.createTempDirectory("chorus-containers-"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the cluster folder", e);
        }
        try {
            for (int i = 1; i <= n; i++) {
                c.servers.add(c.server(i));
                c.servers.get(i - 1).start();
                c.awaitAccepting(i);
                try (Connection conn = c.connectTo(i, "postgres")) {
                    conn.createStatement().execute("CREATE DATABASE " + database);
                }
            }
            for (int i = 1; i <= n; i++) {
                c.configs.add(c.config(i, n));
                c.sidecars.add(null);
            }
        } catch (RuntimeException | SQLException e) {
            c.close();
            throw e;
        }
        LOG.info("{} PostgreSQL containers ({}) on network {}", n, image("postgresImage", DEFAULT_POSTGRES_IMAGE), c.network.getId());
        return c;
    }

    private static String image(String property, String fallback) {
        return System.getProperty("chorus.containers." + property, fallback);
    }

    private GenericContainer<?> server(int i) {
        return new GenericContainer<>(DockerImageName.parse(image("postgresImage", DEFAULT_POSTGRES_IMAGE)))
                .withNetwork(network)
                .withNetworkAliases("pg" + i)
                .withEnv("POSTGRES_HOST_AUTH_METHOD", "trust")
                .withCommand("postgres", "-c", "wal_level=logical", "-c", "track_commit_timestamp=on",
                        "-c", "max_replication_slots=32", "-c", "max_wal_senders=32", "-c", "max_worker_processes=24",
                        "-c", "max_connections=200", "-c", "wal_sender_timeout=60s")
                .withExposedPorts(PG_PORT)
                // docker stop sends SIGINT: PostgreSQL's fast shutdown, whatever the image declares
                .withCreateContainerCmdModifier(cmd -> cmd.withStopSignal("SIGINT"))
                .waitingFor(Wait.forListeningPort().withStartupTimeout(START_TIMEOUT));
    }

    private String config(int i, int n) {
        StringBuilder members = new StringBuilder();
        int port = GROUP_PORT - NodeConfig.Group.portOffset(database);
        for (int k = 1; k <= n; k++) {
            members.append("    node").append(k).append(": sidecar").append(k).append(':').append(port).append('\n');
        }
        return "node: node" + i + "\n"
                + "dataDir: /chorus/data\n"
                + "postgres:\n  host: pg" + i + "\n  port: " + PG_PORT + "\n  user: postgres\n"
                + "  databases: [" + database + "]\n"
                + "group:\n  listen: sidecar" + i + ":" + port + "\n  fsync: false\n  members:\n" + members
                + "apply:\n  helpers: 4\n";
    }

    private GenericContainer<?> sidecar(int i) {
        List<String> classpath = new ArrayList<>();
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(image("javaImage", DEFAULT_JAVA_IMAGE)))
                .withNetwork(network)
                .withNetworkAliases("sidecar" + i)
                .withCopyToContainer(Transferable.of(configs.get(i - 1).getBytes(StandardCharsets.UTF_8)), "/chorus/node.yaml");
        int k = 0;
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(entry);
            if (!Files.exists(p)) {
                continue;
            }
            String target = "/chorus/lib/" + (k++) + "-" + p.getFileName();
            c.withCopyFileToContainer(MountableFile.forHostPath(p), target);
            classpath.add(target);
        }
        return c.withCommand("java", "-Xmx512m", "-Dlog4j2.configurationFile=classpath:chorus-log4j2.xml",
                "-cp", String.join(":", classpath), "io.chorus.coordinator.cli.ChorusCli", "run", "--config", "/chorus/node.yaml");
    }

    @Override
    public int size() {
        return servers.size();
    }

    @Override
    public String database() {
        return database;
    }

    @Override
    public String group() {
        return database;
    }

    @Override
    public Path directory() {
        return dir;
    }

    @Override
    public Path sidecarLog(int i) {
        Path file = dir.resolve("node" + i + ".log");
        GenericContainer<?> c = sidecars.get(i - 1);
        try {
            Files.writeString(file, c == null || c.getContainerId() == null ? "" : c.getLogs());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write node" + i + "'s sidecar log to " + file, e);
        }
        return file;
    }

    @Override
    public Connection connect(int i) throws SQLException {
        return connectTo(i, database);
    }

    private Connection connectTo(int i, String db) throws SQLException {
        GenericContainer<?> c = servers.get(i - 1);
        return DriverManager.getConnection("jdbc:postgresql://" + c.getHost() + ":" + publishedPort(i) + "/" + db
                + "?user=postgres&ApplicationName=chorus-test&connectTimeout=10");
    }

    /** The host port of node {@code i}'s server, read afresh: a restarted container publishes a new one. */
    private int publishedPort(int i) {
        InspectContainerResponse info = docker().inspectContainerCmd(servers.get(i - 1).getContainerId()).exec();
        Ports.Binding[] b = info.getNetworkSettings().getPorts().getBindings().get(ExposedPort.tcp(PG_PORT));
        if (b == null || b.length == 0) {
            throw new IllegalStateException("node" + i + "'s PostgreSQL container publishes no port for " + PG_PORT + " (is it running?)");
        }
        return Integer.parseInt(b[0].getHostPortSpec());
    }

    @Override
    public void cutGroupTraffic(int i, List<Integer> from) {
        throw new UnsupportedOperationException("partitions are not available on the container backend yet (node" + i
                + "); run this test with -D" + BACKEND_PROPERTY + "=local (loopback fault hook) or in network namespaces");
    }

    @Override
    public void editConfig(int i, UnaryOperator<String> edit) {
        configs.set(i - 1, edit.apply(configs.get(i - 1)));
    }

    @Override
    public void startSidecar(int i) {
        GenericContainer<?> c = sidecars.get(i - 1);
        if (c == null || c.getContainerId() == null) {
            c = sidecar(i);
            sidecars.set(i - 1, c);
            c.start();
        } else {
            docker().startContainerCmd(c.getContainerId()).exec();
        }
        LOG.info("node{}: sidecar container {} started", i, c.getContainerId());
    }

    @Override
    public void killSidecar(int i) {
        GenericContainer<?> c = running(i);
        docker().killContainerCmd(c.getContainerId()).withSignal("KILL").exec();
        awaitStopped(c, "node" + i + "'s sidecar container to exit after SIGKILL");
    }

    /** SIGSTOP to the sidecar's JVM, as the local backend does (docker pause needs a working cgroup freezer). */
    @Override
    public void pauseSidecar(int i) {
        docker().killContainerCmd(running(i).getContainerId()).withSignal("STOP").exec();
    }

    @Override
    public void resumeSidecar(int i) {
        docker().killContainerCmd(running(i).getContainerId()).withSignal("CONT").exec();
    }

    @Override
    public boolean sidecarAlive(int i) {
        GenericContainer<?> c = sidecars.get(i - 1);
        return c != null && c.getContainerId() != null && isRunning(c);
    }

    private GenericContainer<?> running(int i) {
        if (!sidecarAlive(i)) {
            throw new IllegalStateException("the sidecar container of node" + i + " is not running");
        }
        return sidecars.get(i - 1);
    }

    @Override
    public void restartPostgres(int i, StopMode mode) {
        GenericContainer<?> c = servers.get(i - 1);
        if (mode == StopMode.IMMEDIATE) {
            docker().killContainerCmd(c.getContainerId()).withSignal("QUIT").exec();
        } else {
            docker().stopContainerCmd(c.getContainerId()).withTimeout(60).exec();
        }
        awaitStopped(c, "node" + i + "'s PostgreSQL container to stop (" + mode + ")");
        docker().startContainerCmd(c.getContainerId()).exec();
        awaitAccepting(i);
        LOG.info("node{}: PostgreSQL container restarted ({})", i, mode);
    }

    private void awaitAccepting(int i) {
        Await.until("node" + i + "'s PostgreSQL container to accept connections", START_TIMEOUT, () -> {
            try (Connection conn = connectTo(i, "postgres")) {
                return conn.isValid(5);
            } catch (SQLException | IllegalStateException e) {
                return false;
            }
        });
    }

    private void awaitStopped(GenericContainer<?> c, String what) {
        Await.until(what, Duration.ofSeconds(90), () -> !isRunning(c));
    }

    private static boolean isRunning(GenericContainer<?> c) {
        Boolean running = docker().inspectContainerCmd(c.getContainerId()).exec().getState().getRunning();
        return Boolean.TRUE.equals(running);
    }

    private static DockerClient docker() {
        return DockerClientFactory.instance().client();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = 1; i <= sidecars.size(); i++) {
            GenericContainer<?> c = sidecars.get(i - 1);
            if (c != null && c.getContainerId() != null) {
                sidecarLog(i);
                stopQuietly(c);
            }
        }
        servers.forEach(ContainerNodes::stopQuietly);
        network.close();
    }

    private static void stopQuietly(GenericContainer<?> c) {
        try {
            if (c.getContainerId() != null && isRunningQuietly(c)) {
                docker().killContainerCmd(c.getContainerId()).withSignal("CONT").exec(); // a frozen JVM ignores SIGTERM
            }
        } catch (RuntimeException e) {
            LOG.debug("SIGCONT to container {} failed: {}", c.getContainerId(), e.toString());
        }
        try {
            c.stop();
        } catch (RuntimeException e) {
            LOG.warn("cannot remove container {}: {}", c.getContainerId(), e.toString());
        }
    }

    private static boolean isRunningQuietly(GenericContainer<?> c) {
        try {
            return isRunning(c);
        } catch (RuntimeException e) {
            return false;
        }
    }
}
