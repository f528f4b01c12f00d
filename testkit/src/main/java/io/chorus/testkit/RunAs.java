package io.chorus.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * PostgreSQL refuses to run as root. When this JVM is root, server programs run as the unprivileged user
 * {@code nobody} through {@code setpriv} (which execs, so the child process is the server itself), and their folders are
 * created in /tmp and handed to that user.
 */
final class RunAs {
    private static final boolean ROOT = "root".equals(System.getProperty("user.name"));
    private static final String USER = "nobody";
    private static final String GROUP = "nogroup";

    private RunAs() {
    }

    static boolean isRoot() {
        return ROOT;
    }

    static List<String> wrap(List<String> command) {
        if (!ROOT) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("setpriv", "--reuid=" + USER, "--regid=" + GROUP, "--clear-groups", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    static Path tempDirectory(String prefix) throws IOException {
        return ROOT ? Files.createTempDirectory(Path.of("/tmp"), prefix) : Files.createTempDirectory(prefix);
    }

    /** Hands a server's folder (and everything in it) to the user the server runs as. */
    static void prepare(Path dir) {
        if (!ROOT) {
            return;
        }
        try {
            Files.createDirectories(dir);
            UserPrincipalLookupService lookup = dir.getFileSystem().getUserPrincipalLookupService();
            UserPrincipal user = lookup.lookupPrincipalByName(USER);
            GroupPrincipal group = lookup.lookupPrincipalByGroupName(GROUP);
            try (Stream<Path> paths = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) paths::iterator) {
                    PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
                    view.setOwner(user);
                    view.setGroup(group);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot hand " + dir + " to user " + USER + " (PostgreSQL does not run as root)", e);
        }
    }
}
