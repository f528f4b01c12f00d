package io.chorus.changeset.capture;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;

/**
 * The durable capture position: the LSN last confirmed to the server and the deps in force at that position, in
 * {@code workDir/capture.state}. {@link #save} writes a temporary file, fsyncs it, renames it atomically over the old
 * one and fsyncs the folder, so after a crash the file holds either the old or the new position, whole. Owned by the
 * reader thread; not thread-safe.
 */
final class CaptureState {
    static final String FILE = "capture.state";

    /** A position in the slot's stream and the deps that the next local commit after it inherits. */
    record Position(Lsn lsn, Gsn deps) {
    }

    private final Path file;
    private final String slot;

    CaptureState(Path workDir, String slot) {
        this.file = workDir.resolve(FILE);
        this.slot = slot;
    }

    Path file() {
        return file;
    }

    Optional<Position> load() {
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try {
            p.load(new java.io.StringReader(Files.readString(file, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read capture state " + file, e);
        }
        if (!slot.equals(p.getProperty("slot"))) {
            throw CaptureException.fatal("capture state " + file + " belongs to slot '" + p.getProperty("slot")
                    + "', not '" + slot + "': use a work folder per slot (or delete the file together with the slot)");
        }
        try {
            return Optional.of(new Position(Lsn.parse(p.getProperty("confirmed_lsn")), Gsn.of(Long.parseLong(p.getProperty("deps")))));
        } catch (RuntimeException e) {
            throw CaptureException.fatal("capture state " + file + " is corrupt (" + e.getMessage()
                    + "): restore it from a backup, or drop the slot and rejoin by state transfer", e);
        }
    }

    void save(Position pos) {
        String text = "slot=" + slot + "\nconfirmed_lsn=" + pos.lsn() + "\ndeps=" + pos.deps().value() + "\n";
        Path tmp = file.resolveSibling(FILE + ".tmp");
        try {
            Files.createDirectories(file.getParent());
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("the file system of " + file.getParent() + " cannot rename atomically", e);
            }
            try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
                dir.force(true);
            }
        } catch (IOException e) {
            throw new CaptureException("cannot persist capture state " + file + " (" + e.getMessage()
                    + "): the confirmed position is not advanced until it can be written; check the disk", e, true);
        }
    }
}
