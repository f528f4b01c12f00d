package io.chorus.coordinator.domain;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.wire.WireCodec;
import io.chorus.coordinator.apply.ApplyUnit;
import io.chorus.coordinator.certify.Certifier;
import io.chorus.coordinator.certify.Verdict;
import io.chorus.coordinator.pending.PendingTracker;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

/**
 * The delivery side of one domain: every record the group delivers, in GSN order, on the group's delivery thread.
 * Changesets are certified (a pure function of the log), this node's own pending commits are doomed and rolled back
 * where a remote winner beats them (R3), and the result goes to the applier as one {@link ApplyUnit} per GSN.
 *
 * <p>Records at or below {@code replayUpTo} (the node's W when it started) were applied before a restart: they are
 * certified again — the certifier's index must hold them — but not applied.
 */
final class Delivery {
    private static final Logger LOG = LogManager.getLogger(Delivery.class);

    private final NodeId self;
    private final String database;
    private final WireCodec codec;
    private final Certifier certifier;
    private final PendingTracker pending;
    private final ReentrantLock pendingLock;
    private final UnitSink sink;
    private final LocalDelivered localDelivered;
    private final Gsn replayUpTo;
    private final Map<String, Gsn> barriers = new ConcurrentHashMap<>();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong conflicts = new AtomicLong();

    /** Where apply units go (the applier; blocks when full). */
    interface UnitSink {
        void submit(ApplyUnit unit);
    }

    /** Told when one of this node's own changesets has come back in total order. */
    interface LocalDelivered {
        void delivered(ChangeSet cs, Gsn gsn);
    }

    Delivery(NodeId self, String database, WireCodec codec, Certifier certifier, PendingTracker pending,
             ReentrantLock pendingLock, UnitSink sink, LocalDelivered localDelivered, Gsn replayUpTo) {
        this.self = self;
        this.database = database;
        this.codec = codec;
        this.certifier = certifier;
        this.pending = pending;
        this.pendingLock = pendingLock;
        this.sink = sink;
        this.localDelivered = localDelivered;
        this.replayUpTo = replayUpTo;
    }

    void deliver(Gsn gsn, byte[] payload) {
        ThreadContext.put("gsn", gsn.toString());
        try {
            LogRecord record = LogRecord.decode(payload, codec);
            boolean replay = !gsn.isAfter(replayUpTo);
            if (record instanceof LogRecord.Changes c) {
                changes(gsn, c.changeSet(), replay);
            } else if (record instanceof LogRecord.Watermark w) {
                certifier.onWatermark(w.node(), w.watermark());
                progress(gsn, replay);
            } else if (record instanceof LogRecord.Barrier b) {
                if (b.node().equals(self)) {
                    barriers.put(b.token(), gsn);
                }
                progress(gsn, replay);
            }
            delivered.set(gsn.value());
        } finally {
            ThreadContext.remove("gsn");
        }
    }

    private void changes(Gsn gsn, ChangeSet cs, boolean replay) {
        Verdict v = certifier.certify(gsn, cs);
        boolean local = cs.origin().equals(self);
        if (!v.conflicts().isEmpty()) {
            conflicts.addAndGet(v.conflicts().size());
            LOG.info("GSN {} from {}: {} of {} row changes lost ({})", gsn, cs.origin(), v.conflicts().size(),
                    cs.rowCount(), v.conflicts().get(0).kind());
        }
        if (replay) {
            return;
        }
        List<io.chorus.coordinator.apply.RestoreRow> restores;
        pendingLock.lock();
        try {
            if (local) {
                pending.onOwnDelivered(v);
                restores = List.of();
            } else {
                restores = pending.onRemoteWinner(v);
            }
        } finally {
            pendingLock.unlock();
        }
        if (local) {
            localDelivered.delivered(cs, gsn);
        }
        sink.submit(new ApplyUnit(gsn, cs.gtid(), cs.commitTime(), local, restores,
                local ? List.of() : v.winningChanges(), v.conflictRows(), v.allKeys()));
    }

    private void progress(Gsn gsn, boolean replay) {
        if (!replay) {
            sink.submit(ApplyUnit.progressOnly(gsn));
        }
    }

    /** The GSN a read barrier of this node was ordered at, once delivered. */
    Gsn barrierGsn(String token) {
        return barriers.get(token);
    }

    Map<String, Gsn> barriers() {
        return barriers;
    }

    long delivered() {
        return delivered.get();
    }

    long conflicts() {
        return conflicts.get();
    }

    String database() {
        return database;
    }

    Instant now() {
        return Instant.now();
    }

    Lsn unused() {
        return Lsn.INVALID;
    }

    static ChorusException divergence(String what) {
        return new ChorusException("divergence: " + what + "; this domain stops to protect the data");
    }
}
