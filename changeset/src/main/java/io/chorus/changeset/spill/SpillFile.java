package io.chorus.changeset.spill;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.wire.WireCodec;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * A temporary file of changes: a sequence of records, each a 4-byte length followed by one change frame of
 * {@link WireCodec#encodeChange(Change)} (which carries its own checksum). Written once, then read by any number of
 * sequential readers. Not thread-safe.
 */
final class SpillFile implements Closeable {
    private static final int BUFFER = 1 << 16;
    /** A single change above this size means the length field is corrupted. */
    private static final int MAX_RECORD = Integer.MAX_VALUE - 64;

    private final Path file;
    private final WireCodec codec;
    private final List<Reader> readers = new ArrayList<>();
    private DataOutputStream out;
    private int written;
    private boolean closed;

    SpillFile(Path dir, WireCodec codec) {
        this.codec = codec;
        try {
            Files.createDirectories(dir);
            this.file = Files.createTempFile(dir, "chorus-changes-", ".spill");
            this.out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), BUFFER));
        } catch (IOException e) {
            throw new ChorusException("cannot create a spill file in " + dir + " for a large transaction: " + e
                    + "; make the spill directory writable or point it to another disk", e);
        }
    }

    Path path() {
        return file;
    }

    void append(Change change) {
        byte[] frame = codec.encodeChange(change);
        try {
            out.writeInt(frame.length);
            out.write(frame);
            written++;
        } catch (IOException e) {
            throw writeFailed(e);
        }
    }

    void finishWriting() {
        try {
            out.close();
            out = null;
        } catch (IOException e) {
            throw writeFailed(e);
        }
    }

    /** A new sequential reader of the {@code count} records written; closed at its end or by {@link #close()}. */
    Reader reader() {
        if (closed) {
            throw new IllegalStateException("spill file " + file + " was closed and deleted: the change list returned"
                    + " by ChangeBuffer.finish() is usable only until ChangeBuffer.close()");
        }
        Reader r = new Reader();
        readers.add(r);
        return r;
    }

    /** Closes the writer and every reader, and deletes the file. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Reader r : List.copyOf(readers)) {
            r.closeQuietly();
        }
        readers.clear();
        try {
            if (out != null) {
                out.close();
            }
        } catch (IOException ignored) {
            // the file is deleted next: nothing written to it matters any more
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new ChorusException("cannot delete spill file " + file + ": " + e + "; delete it by hand", e);
        }
    }

    private ChorusException writeFailed(IOException e) {
        return new ChorusException("cannot write spill file " + file + " after " + written + " changes: " + e
                + "; free disk space in " + file.getParent() + " or point the spill directory elsewhere", e);
    }

    /** One sequential pass over the records; closes itself after the last one. */
    final class Reader implements Iterator<Change>, Closeable {
        private DataInputStream in;
        private int read;

        Reader() {
            try {
                in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), BUFFER));
            } catch (IOException e) {
                throw readFailed(e);
            }
        }

        @Override
        public boolean hasNext() {
            return read < written;
        }

        @Override
        public Change next() {
            if (!hasNext()) {
                throw new NoSuchElementException("all " + written + " spilled changes were read");
            }
            if (closed || in == null) {
                throw new IllegalStateException("spill file " + file + " was closed while change " + read
                        + " of " + written + " was being read: iterate before ChangeBuffer.close()");
            }
            try {
                int length = in.readInt();
                if (length <= 0 || length > MAX_RECORD) {
                    throw new IOException("record length " + length + " is impossible: the file is corrupted");
                }
                byte[] frame = new byte[length];
                in.readFully(frame);
                Change change = codec.decodeChange(frame);
                if (++read == written) {
                    closeQuietly();
                }
                return change;
            } catch (EOFException e) {
                throw readFailed(new IOException("file ends early: it was truncated", e));
            } catch (IOException | RuntimeException e) {
                throw readFailed(e);
            }
        }

        private ChorusException readFailed(Exception e) {
            closeQuietly();
            return new ChorusException("cannot read change " + read + " of " + written + " from spill file " + file
                    + ": " + e.getMessage() + "; the file was changed or damaged on disk", e);
        }

        @Override
        public void close() {
            closeQuietly();
        }

        private void closeQuietly() {
            try {
                if (in != null) {
                    in.close();
                }
            } catch (IOException ignored) {
                // read-only stream: closing cannot lose data
            } finally {
                in = null;
                readers.remove(this);
            }
        }
    }
}
