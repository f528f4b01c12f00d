package io.chorus.it.harness;

import io.chorus.changeset.NodeId;
import io.chorus.coordinator.demo.LocalCluster;
import io.chorus.coordinator.sidecar.FaultControl;
import io.chorus.testkit.PgServer.StopMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * The default backend: a {@link LocalCluster} of embedded PostgreSQL servers and sidecar processes on this host. Every
 * sidecar runs with the test fault control ({@code testing.faultControl}: {@code node<i>.faults} in the cluster folder),
 * through which {@link #cutGroupTraffic} partitions the group links on loopback.
 */
final class LocalNodes implements ClusterNodes {
    /** How long a sidecar may take to acknowledge a fault request (it reads its file as soon as it changes). */
    private static final Duration FAULT_ACK = Duration.ofSeconds(30);
    private final LocalCluster local;

    LocalNodes(LocalCluster local) {
        this.local = local;
        for (int i = 1; i <= local.size(); i++) {
            String file = faultFile(i).getFileName().toString();
            editConfig(i, yaml -> yaml + "testing:\n  faultControl: " + file + "\n");
        }
    }

    private Path faultFile(int i) {
        return local.directory().resolve("node" + i + ".faults");
    }

    @Override
    public void cutGroupTraffic(int i, List<Integer> from) throws InterruptedException {
        Set<NodeId> ids = new TreeSet<>();
        from.forEach(j -> ids.add(NodeId.of("node" + j)));
        FaultControl.Ack ack;
        try {
            ack = FaultControl.request(faultFile(i), ids, FAULT_ACK);
        } catch (IllegalStateException e) {
            throw new IllegalStateException("node" + i + ": " + e.getMessage() + " (sidecar log: " + sidecarLog(i) + ")", e);
        }
        if (!ids.isEmpty() && ack.groups().isEmpty()) {
            throw new IllegalStateException("node" + i + "'s sidecar has no open group to cut off from " + ids
                    + " (is the database enabled there? sidecar log: " + sidecarLog(i) + ")");
        }
    }

    LocalCluster cluster() {
        return local;
    }

    @Override
    public int size() {
        return local.size();
    }

    @Override
    public String database() {
        return local.database();
    }

    @Override
    public String group() {
        return local.group();
    }

    @Override
    public Path directory() {
        return local.directory();
    }

    @Override
    public Path sidecarLog(int i) {
        return local.sidecarLog(i);
    }

    @Override
    public Connection connect(int i) throws SQLException {
        return local.connect(i);
    }

    @Override
    public void editConfig(int i, UnaryOperator<String> edit) {
        Path file = local.directory().resolve("node" + i + ".yaml");
        try {
            Files.writeString(file, edit.apply(Files.readString(file)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite the sidecar configuration " + file, e);
        }
    }

    @Override
    public void startSidecars() {
        local.startSidecars();
    }

    @Override
    public void startSidecar(int i) {
        local.startSidecar(i);
    }

    @Override
    public void killSidecar(int i) throws InterruptedException {
        local.killSidecar(i);
    }

    @Override
    public void pauseSidecar(int i) {
        local.pauseSidecar(i);
    }

    @Override
    public void resumeSidecar(int i) {
        local.resumeSidecar(i);
    }

    @Override
    public boolean sidecarAlive(int i) {
        return local.sidecarAlive(i);
    }

    @Override
    public void restartPostgres(int i, StopMode mode) {
        local.server(i).restart(mode);
    }

    @Override
    public void close() {
        local.close();
    }
}
