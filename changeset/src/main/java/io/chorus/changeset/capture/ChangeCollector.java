package io.chorus.changeset.capture;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.spill.ChangeBuffer;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.Iterator;
import java.util.List;

/**
 * Where the changes of the transaction being assembled accumulate: a {@link ChangeBuffer}, on the heap while small and
 * in a spill file under {@code workDir/spill} beyond the threshold. A spilled transaction's list is handed on as
 * {@link ChangeSet.DiskBacked} (not copied to the heap) and is readable until {@link #close()}, which happens once the
 * changeset is confirmed (delivered back in total order) or capture closes. One per transaction; created and closed
 * on the reader thread (close may also run on the thread that closes the capture).
 */
final class ChangeCollector implements AutoCloseable {
    private final ChangeBuffer buffer;

    private ChangeCollector(ChangeBuffer buffer) {
        this.buffer = buffer;
    }

    static ChangeCollector create(long spillThresholdBytes, Path workDir) {
        return new ChangeCollector(new ChangeBuffer(spillThresholdBytes, workDir.resolve("spill")));
    }

    void add(Change change) {
        buffer.add(change);
    }

    /** The changes in the order added; valid until {@link #close()}. */
    List<Change> finish() {
        List<Change> list = buffer.finish();
        return buffer.spilled() ? new Spilled(list) : list;
    }

    boolean spilled() {
        return buffer.spilled();
    }

    boolean isEmpty() {
        return buffer.size() == 0;
    }

    @Override
    public void close() {
        buffer.close();
    }

    /** The spill file's list, marked so that {@link ChangeSet} keeps it instead of copying it to the heap. */
    private static final class Spilled extends AbstractList<Change> implements ChangeSet.DiskBacked {
        private final List<Change> file;

        Spilled(List<Change> file) {
            this.file = file;
        }

        @Override
        public Iterator<Change> iterator() {
            return file.iterator();
        }

        @Override
        public Change get(int index) {
            return file.get(index);
        }

        @Override
        public int size() {
            return file.size();
        }
    }
}
