package io.chorus.changeset.spill;

import io.chorus.changeset.Change;
import io.chorus.changeset.Key;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import io.chorus.changeset.wire.WireCodec;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * Collects the changes of one transaction being assembled, in memory while they are small and in a temporary file
 * once their estimated size crosses a threshold, so a transaction larger than the heap can still be decoded.
 *
 * <p>The size is estimated cheaply from text lengths (roughly the heap the changes take with compact strings), not
 * measured. When the estimate first exceeds the threshold, every change held so far is written to a new file in the
 * spill directory and every later change goes straight there; nothing stays in heap.
 *
 * <p>{@link #finish()} returns the changes in order: the in-memory list, or a file-backed list whose iterator streams
 * from disk. The file-backed list holds no change in heap; its {@code get(i)} reads from the start (O(n)): iterate
 * instead. The list is usable until {@link #close()}, which deletes the file.
 *
 * <p>Not thread-safe: one assembler thread owns a buffer. {@link #add} blocks on disk I/O once spilling.
 */
public final class ChangeBuffer implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(ChangeBuffer.class);
    private static final WireCodec SHARED_CODEC = new WireCodec();

    private final long spillThresholdBytes;
    private final Path spillDir;
    private final WireCodec codec;
    private List<Change> memory = new ArrayList<>();
    private SpillFile spill;
    private long bytes;
    private int size;
    private boolean finished;
    private boolean closed;

    /**
     * @param spillThresholdBytes estimated size above which the changes go to disk; 0 spills from the first change
     * @param spillDir            directory for the temporary file (created if missing)
     */
    public ChangeBuffer(long spillThresholdBytes, Path spillDir) {
        this(spillThresholdBytes, spillDir, SHARED_CODEC);
    }

    public ChangeBuffer(long spillThresholdBytes, Path spillDir, WireCodec codec) {
        if (spillThresholdBytes < 0) {
            throw new IllegalArgumentException("spill threshold must be >= 0 bytes, got " + spillThresholdBytes);
        }
        this.spillThresholdBytes = spillThresholdBytes;
        this.spillDir = Objects.requireNonNull(spillDir, "spillDir");
        this.codec = Objects.requireNonNull(codec, "codec");
    }

    /** Appends a change; may write to the spill file. */
    public void add(Change change) {
        Objects.requireNonNull(change, "change");
        checkWritable();
        bytes += estimate(change);
        size++;
        if (spill != null) {
            spill.append(change);
            return;
        }
        memory.add(change);
        if (bytes > spillThresholdBytes) {
            startSpill();
        }
    }

    /** The estimated size of the changes added so far. */
    public long bytes() {
        return bytes;
    }

    /** The number of changes added so far. */
    public int size() {
        return size;
    }

    /** Whether the changes went to a spill file. */
    public boolean spilled() {
        return spill != null;
    }

    /** Ends the transaction and returns its changes in order; an unmodifiable list, usable until {@link #close()}. */
    public List<Change> finish() {
        checkWritable();
        finished = true;
        if (spill == null) {
            return Collections.unmodifiableList(memory);
        }
        spill.finishWriting();
        return new SpilledList(spill, size);
    }

    /** Releases the changes and deletes the spill file, if any. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        memory = List.of();
        if (spill != null) {
            spill.close();
            LOG.debug("deleted spill file {} ({} changes)", spill.path(), size);
        }
    }

    private void startSpill() {
        spill = new SpillFile(spillDir, codec);
        LOG.info("transaction crossed the spill threshold of {} bytes after {} changes (~{} bytes): spilling to {}",
                spillThresholdBytes, size, bytes, spill.path());
        for (Change c : memory) {
            spill.append(c);
        }
        memory = List.of();
    }

    private void checkWritable() {
        if (closed || finished) {
            throw new IllegalStateException("change buffer of " + size + " changes is already "
                    + (closed ? "closed" : "finished") + ": start a new ChangeBuffer for the next transaction");
        }
    }

    /**
     * Approximate heap bytes of a change: text lengths plus a fixed overhead per object (cheap; for byte budgets of
     * buffers and queues, not an exact measure).
     */
    public static long estimate(Change change) {
        if (change instanceof RowChange rc) {
            long n = 64 + estimate(rc.newTuple()) + estimate(rc.oldTuple());
            for (Key k : rc.keys()) {
                n += 48 + k.index().length();
                for (String v : k.values()) {
                    n += 24 + v.length();
                }
            }
            return n;
        }
        if (change instanceof MessageChange m) {
            return 48 + m.prefix().length() + m.content().length;
        }
        return 32 + 32L * ((TruncateChange) change).relations().size();
    }

    private static long estimate(Tuple t) {
        if (t == null) {
            return 0;
        }
        long n = 32 + 8L * t.size();
        for (int c = 0; c < t.size(); c++) {
            String text = t.text(c);
            n += text == null ? 0 : 24 + text.length();
        }
        return n;
    }

    /** The finished changes, on disk. {@code get(i)} streams from the start: O(i) reads. */
    private static final class SpilledList extends AbstractList<Change> {
        private final SpillFile file;
        private final int size;

        SpilledList(SpillFile file, int size) {
            this.file = file;
            this.size = size;
        }

        @Override
        public Iterator<Change> iterator() {
            return file.reader();
        }

        @Override
        public Change get(int index) {
            Objects.checkIndex(index, size);
            try (SpillFile.Reader reader = file.reader()) {
                Change c = reader.next();
                for (int i = 0; i < index; i++) {
                    c = reader.next();
                }
                return c;
            }
        }

        /** One sequential pass (AbstractList's version would call get(i) for every i). */
        @Override
        public boolean equals(Object o) {
            if (o == this) {
                return true;
            }
            if (!(o instanceof List<?> other) || other.size() != size) {
                return false;
            }
            Iterator<?> theirs = other.iterator();
            for (Change c : this) {
                if (!c.equals(theirs.next())) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = 1;
            for (Change c : this) {
                h = 31 * h + c.hashCode();
            }
            return h;
        }

        @Override
        public int size() {
            return size;
        }
    }
}
