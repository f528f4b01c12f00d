package io.chorus.changeset.capture;

import io.chorus.changeset.Change;
import io.chorus.changeset.spill.ChangeBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the changes of the transaction being assembled accumulate: a {@link ChangeBuffer}, on the heap while small and
 * in a spill file under {@code workDir/spill} beyond the threshold. One per transaction, reader thread only.
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
        return buffer.finish();
    }

    boolean isEmpty() {
        return buffer.size() == 0;
    }

    @Override
    public void close() {
        buffer.close();
    }
}
