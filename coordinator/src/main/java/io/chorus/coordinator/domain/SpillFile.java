package io.chorus.coordinator.domain;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A first-in first-out queue of append records on disk: {@code [originSeq: long][length: int][payload]} per record,
 * written at the end of one file and read from its start. When the reader has taken every record written, the file is
 * deleted, so a spill that drained leaves nothing behind.
 *
 * <p>The file is a cache, not a log: it is not fsynced, and a file left by an earlier run is deleted at
 * {@link #open}. After a crash the capture re-reads every undelivered local commit from the slot, whose confirmed
 * position never passes a changeset that was not delivered back in total order.
 *
 * <p>Not thread-safe: {@link AppendQueue} calls it under its lock. {@link #write} and {@link #read} block on disk I/O.
 */
final class SpillFile implements AutoCloseable {
    private static final int HEADER_BYTES = Long.BYTES + Integer.BYTES;
    private final Path file;
    private DataOutputStream out;
    private DataInputStream in;
    private long written;
    private long read;
    private long bytesOnDisk;

    private SpillFile(Path file) {
        this.file = file;
    }

    /** A spill queue at {@code file}; deletes what an earlier run left there (its records are still in the slot). */
    static SpillFile open(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.deleteIfExists(file);
        return new SpillFile(file);
    }

    Path path() {
        return file;
    }

    boolean isEmpty() {
        return read == written;
    }

    /** Records written and not read yet. */
    long records() {
        return written - read;
    }

    /** Bytes of the records written and not read yet, headers included. */
    long bytes() {
        return bytesOnDisk;
    }

    /**
     * Appends a record and hands it to the operating system (no fsync: see the class note), so that a full disk is
     * reported by this call.
     *
     * @throws IOException when the record cannot be written (the disk is full, the folder is not writable)
     */
    void write(Appender.Item item) throws IOException {
        if (out == null) {
            OutputStream os = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
            out = new DataOutputStream(new BufferedOutputStream(os, 1 << 16));
        }
        out.writeLong(item.originSeq());
        out.writeInt(item.payload().length);
        out.write(item.payload());
        out.writeInt(item.catalog().size());
        long size = HEADER_BYTES + item.payload().length + 4;
        for (java.util.Map.Entry<Long, byte[]> d : item.catalog().entrySet()) {
            out.writeLong(d.getKey());
            out.writeInt(d.getValue().length);
            out.write(d.getValue());
            size += 12 + d.getValue().length;
        }
        out.flush();
        written++;
        bytesOnDisk += size;
    }

    /**
     * Takes the oldest record; deletes the file once the last record written has been read.
     *
     * @throws IllegalStateException when the queue is empty
     * @throws IOException when the file cannot be read back
     */
    Appender.Item read() throws IOException {
        if (isEmpty()) {
            throw new IllegalStateException("spill file " + file + " has no record to read");
        }
        if (in == null) {
            InputStream is = Files.newInputStream(file, StandardOpenOption.READ);
            in = new DataInputStream(new BufferedInputStream(is, 1 << 16));
        }
        long originSeq = in.readLong();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        int entries = in.readInt();
        long size = HEADER_BYTES + payload.length + 4;
        java.util.Map<Long, byte[]> catalog = entries == 0 ? java.util.Map.of() : new java.util.HashMap<>();
        for (int i = 0; i < entries; i++) {
            long id = in.readLong();
            byte[] d = new byte[in.readInt()];
            in.readFully(d);
            catalog.put(id, d);
            size += 12 + d.length;
        }
        read++;
        bytesOnDisk -= size;
        if (isEmpty()) {
            reset();
        }
        return new Appender.Item(originSeq, payload, catalog);
    }

    private void reset() throws IOException {
        close();
        Files.deleteIfExists(file);
        written = 0;
        read = 0;
        bytesOnDisk = 0;
    }

    /** Closes the streams; the file stays until {@link #delete}. */
    @Override
    public void close() throws IOException {
        try {
            if (out != null) {
                out.close();
            }
        } finally {
            out = null;
            if (in != null) {
                in.close();
            }
            in = null;
        }
    }

    /** Closes and deletes the file (the domain stops: the slot still holds every record in it). */
    void delete() throws IOException {
        reset();
    }
}
