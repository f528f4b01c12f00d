package io.chorus.coordinator.domain;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.RelationName;
import io.chorus.coordinator.apply.ApplyGuard;
import io.chorus.coordinator.apply.RestoreRow;
import io.chorus.coordinator.apply.XidSnapshot;
import io.chorus.coordinator.pending.PendingTracker;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The domain's side of {@link ApplyGuard}: the capture answers "caught up" ({@link CaptureSync}), the pending-row
 * tracker the late restores. The tracker is attached once the domain is live (after a restart's rebuild).
 */
final class DomainGuard implements ApplyGuard {
    private final ReentrantLock lock;
    private volatile CaptureSync sync;
    private volatile PendingTracker pending;

    private final Runnable drainLocals;

    private final SchemaChanges schemaChanges;

    DomainGuard(ReentrantLock lock, Runnable drainLocals, SchemaChanges schemaChanges) {
        this.lock = lock;
        this.drainLocals = drainLocals;
        this.schemaChanges = schemaChanges;
    }

    @Override
    public Optional<TableMove> localMove(RelationName table) {
        return schemaChanges.localMove(table);
    }

    @Override
    public Map<String, String> localColumnRenames(RelationName table) {
        return schemaChanges.localColumnRenames(table);
    }

    void attach(CaptureSync captureSync) {
        this.sync = captureSync;
    }

    void attach(PendingTracker tracker) {
        this.pending = tracker;
    }

    @Override
    public void awaitCaptureCaughtUp(Duration timeout) throws InterruptedException {
        CaptureSync s = sync;
        if (s != null) {
            s.await(timeout);
        }
    }

    @Override
    public void awaitCaptureCaughtUp(Lsn position, Lsn flushed, XidSnapshot snapshot, Duration timeout)
            throws InterruptedException {
        CaptureSync s = sync;
        if (s != null) {
            s.await(position, flushed, snapshot, timeout);
        }
    }

    @Override
    public void helperTransaction(long xid) {
        CaptureSync s = sync;
        if (s != null) {
            s.helperTransaction(xid);
        }
    }

    @Override
    public List<RestoreRow> takeLateRestores(Gsn first, Gsn last) {
        lock.lock();
        try {
            if (pending == null) {
                return List.of();
            }
            drainLocals.run();
            return pending.takeLateRestores(first, last);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void committed(Gsn upTo) {
        schemaChanges.committed(upTo);
        lock.lock();
        try {
            if (pending != null) {
                pending.committed(upTo);
            }
        } finally {
            lock.unlock();
        }
    }
}
