package io.chorus.it.harness;

import io.chorus.coordinator.demo.LocalCluster;
import io.chorus.testkit.PgServer.StopMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.UnaryOperator;

/** The default backend: a {@link LocalCluster} of embedded PostgreSQL servers and sidecar processes on this host. */
final class LocalNodes implements ClusterNodes {
    private final LocalCluster local;

    LocalNodes(LocalCluster local) {
        this.local = local;
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
