package io.chorus.coordinator.config;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.NodeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/** A node's id, created once in {@code dataDir/node-id} and kept for the life of the node. */
public final class NodeIdentity {
    private NodeIdentity() {
    }

    public static NodeId loadOrCreate(Path dataDir) {
        Path file = dataDir.resolve("node-id");
        try {
            if (Files.exists(file)) {
                return NodeId.of(Files.readString(file, StandardCharsets.UTF_8).strip());
            }
            Files.createDirectories(dataDir);
            byte[] b = new byte[4];
            new SecureRandom().nextBytes(b);
            NodeId id = NodeId.of("n" + HexFormat.of().formatHex(b));
            Path tmp = dataDir.resolve("node-id.tmp");
            Files.writeString(tmp, id.value() + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
            return id;
        } catch (IOException | IllegalArgumentException e) {
            throw new ChorusException("cannot read or create the node id in " + file + ": " + e.getMessage(), e);
        }
    }
}
