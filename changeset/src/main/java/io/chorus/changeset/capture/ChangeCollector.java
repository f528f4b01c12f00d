package io.chorus.changeset.capture;

import io.chorus.changeset.Change;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the changes of the transaction being assembled accumulate. The seam for spilling large transactions to disk:
 * today an in-memory list; {@code io.chorus.changeset.spill.ChangeBuffer} plugs in here. One per transaction, used by
 * the reader thread only.
 */
interface ChangeCollector extends AutoCloseable {
    void add(Change change);

    /** The changes in the order added; valid until {@link #close()}. */
    List<Change> finish();

    @Override
    void close();

    /** A collector for one transaction; {@code spillThresholdBytes} and {@code spillDir} are for the disk-backed one. */
    static ChangeCollector create(long spillThresholdBytes, Path spillDir) {
        return new InMemory();
    }

    /** Keeps every change on the heap. */
    final class InMemory implements ChangeCollector {
        private final List<Change> changes = new ArrayList<>();

        @Override
        public void add(Change change) {
            changes.add(change);
        }

        @Override
        public List<Change> finish() {
            return changes;
        }

        @Override
        public void close() {
            changes.clear();
        }
    }
}
