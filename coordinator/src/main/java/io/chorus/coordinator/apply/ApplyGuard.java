package io.chorus.coordinator.apply;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.RelationName;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Closes the race between applying remote winners and committing local transactions (DESIGN §3, R3: "the doom
 * computation must see every local commit before the helper's commit"). Implemented by the domain over the pending
 * tracker and the capture; called by the applier's helpers.
 *
 * <p>Protocol, per apply transaction covering GSNs {@code first..last}:
 * <ol>
 *   <li>at the start, {@link #takeLateRestores} for the range is prepended to the batch's restores;</li>
 *   <li>the restores and the winners' statements run — they lock every item of the winners' keys (rows, unique index
 *       entries, and referenced parents, which the applier locks explicitly with {@code FOR KEY SHARE});</li>
 *   <li>{@link #awaitCaptureCaughtUp}: every local commit that committed before this point is now known to the
 *       tracker, which has doomed the ones a winner of this batch beats and recorded their rollbacks;</li>
 *   <li>{@link #takeLateRestores} again: if it returns rows, the transaction is rolled back and re-run with them
 *       prepended; else it commits. A local commit after step 3 that meets a winner's item waits for the lock, so it
 *       commits after this transaction and is not concurrent with it.</li>
 * </ol>
 * A statement that finds a row missing or already present does the same (steps 3-4) before it is called divergence.
 *
 * <p>Step 3 may be answered without waiting for the capture: helpers tell the guard their transaction ids
 * ({@link #helperTransaction}) and give step 3 the snapshot read with the WAL position. When every transaction that
 * can have finished between the snapshot of an earlier confirmed step 3 and this one is a helper's, no local
 * transaction can have committed in between, and the capture has already reported every local commit this step needs
 * (see {@code CaptureSync}). Only a check without a snapshot, or one that meets any other transaction id, waits.
 * Implementations are thread-safe.
 */
public interface ApplyGuard {
    /** No local writes to protect (tests of the applier alone). */
    ApplyGuard NONE = new ApplyGuard() {
        @Override
        public void awaitCaptureCaughtUp(Duration timeout) {
        }

        @Override
        public List<RestoreRow> takeLateRestores(Gsn first, Gsn last) {
            return List.of();
        }

        @Override
        public void committed(Gsn upTo) {
        }
    };

    /**
     * Blocks until the capture has reported every transaction that committed in this database before the call.
     *
     * @throws io.chorus.changeset.ChorusException (retriable) when that takes longer than {@code timeout}
     */
    void awaitCaptureCaughtUp(Duration timeout) throws InterruptedException;

    /**
     * Blocks until the capture has reported every transaction whose commit record lies before WAL position
     * {@code position}, which the caller read after taking its locks ({@code pg_current_wal_insert_lsn()}), together
     * with the server's flush position {@code flushed}. Every local commit that a lock of the caller waited for lies
     * before it, so this gives step 3 its guarantee, and lets an implementation answer at once when the capture is
     * already past the position. {@code snapshot} is the snapshot of the statement that read the positions, taken
     * after the caller's locks and before the positions (null: unknown); the implementation may answer from it at once
     * when only helper transactions can have finished since an earlier confirmed check (see the class comment): the
     * local commits that the caller's locks waited for finished before the snapshot. The default ignores the
     * positions and the snapshot.
     *
     * @throws io.chorus.changeset.ChorusException (retriable) when that takes longer than {@code timeout}
     */
    default void awaitCaptureCaughtUp(Lsn position, Lsn flushed, XidSnapshot snapshot, Duration timeout)
            throws InterruptedException {
        awaitCaptureCaughtUp(timeout);
    }

    /**
     * {@code xid} (64-bit, epoch included) is the top-level transaction id of one of the applier's helpers: its
     * commit is not a local write. Call it before the transaction's snapshot-bearing check, as early as possible so that
     * other helpers' checks know it. Non-blocking. The default forgets it.
     */
    default void helperTransaction(long xid) {
    }

    /**
     * Rows to restore in the transaction applying GSNs {@code first..last} (inclusive): local changesets that committed
     * before that transaction and that a winner in the range dooms, learned after the range's restores were computed.
     * Removes what it returns; the caller keeps them with the batch across re-runs.
     */
    List<RestoreRow> takeLateRestores(Gsn first, Gsn last);

    /** Every GSN up to {@code upTo} is committed in this database: winners up to it can no longer doom anything. */
    void committed(Gsn upTo);

    /**
     * A table that a DDL statement of this node renamed ({@code to} present: its name now) or dropped ({@code to}
     * empty) after a remote change was written against it.
     */
    record TableMove(RelationName from, Optional<RelationName> to) {
    }

    /**
     * Where {@code table}, which does not exist here, went: a remote change ordered before a local DDL statement that
     * renamed or dropped it reaches this node (the statement's origin) after it. The caller must have awaited the
     * capture first ({@link #awaitCaptureCaughtUp}), so every local statement committed before is known. The default
     * knows none.
     */
    default Optional<TableMove> localMove(RelationName table) {
        return Optional.empty();
    }

    /**
     * The columns of {@code table} a local DDL statement renamed after a remote change was written against them, old
     * name to the name now: such a change, ordered before the statement, reaches this node (the statement's origin)
     * after it. The caller must have awaited the capture first, as for {@link #localMove}. The default knows none.
     */
    default Map<String, String> localColumnRenames(RelationName table) {
        return Map.of();
    }
}
