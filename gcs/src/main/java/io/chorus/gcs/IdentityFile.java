package io.chorus.gcs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * The group identity a member has adopted, kept in {@code <dataDir>/<group>.identity} so that a restart (which
 * replays the log of that group) keeps it. A configured identity must agree with the stored one.
 */
final class IdentityFile {

    private IdentityFile() {
    }

    static Path path(GroupConfig cfg) {
        return cfg.dataDir().resolve(cfg.groupName() + ".identity");
    }

    /** The identity to start with; refuses a configured identity that contradicts the stored one. */
    static UUID reconcile(GroupConfig cfg) {
        Path p = path(cfg);
        if (!Files.exists(p)) {
            return cfg.groupIdentity();
        }
        UUID stored;
        try {
            stored = UUID.fromString(Files.readString(p, StandardCharsets.UTF_8).trim());
        } catch (IOException | IllegalArgumentException e) {
            throw new GcsException(GcsException.Kind.FAILED, "cannot read the group identity in " + p + ": " + e
                    + "; restore the file or remove the data directory to start over");
        }
        if (cfg.groupIdentity() != null && !cfg.groupIdentity().equals(stored)) {
            throw new GcsException(GcsException.Kind.REFUSED, "the data directory " + cfg.dataDir()
                    + " holds the log of group identity " + stored + " but this member is configured for group "
                    + "identity " + cfg.groupIdentity() + "; use the data directory of that group or an empty one");
        }
        return stored;
    }

    static void store(GroupConfig cfg, UUID identity) {
        if (identity == null) {
            return;
        }
        Path p = path(cfg);
        try {
            Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
            Files.writeString(tmp, identity + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot store the group identity in " + p, e);
        }
    }
}
