package io.chorus.coordinator.domain;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.wire.WireCodec;
import io.chorus.coordinator.apply.ApplyUnit;
import io.chorus.coordinator.certify.Certifier;
import io.chorus.coordinator.certify.Verdict;
import io.chorus.coordinator.pending.PendingTracker;
import io.chorus.coordinator.pending.ReplayedVerdicts;
import java.nio.file.Path;
import io.chorus.changeset.Gtid;
import io.chorus.coordinator.apply.ConflictRow;
import io.chorus.coordinator.apply.RestoreRow;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
    private volatile PendingTracker pending;
    private final ReentrantLock pendingLock;
    private final Runnable drainLocals;
    private final UnitSink sink;
    private final LocalDelivered localDelivered;
    private final Gsn replayUpTo;
    private final Gsn replayFrom;
    private final DdlOrder ddlOrder;
    private final Map<Long, List<ConflictRow>> recorded;
    private final ReplaySpill replayed;
    private final Set<Gtid> replayedOwn = new HashSet<>();
    private final CountDownLatch live = new CountDownLatch(1);
    private volatile boolean abandoned;
    private final Map<String, Gsn> barriers = new ConcurrentHashMap<>();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong conflicts = new AtomicLong();
    private final ConflictTally conflictTally = new ConflictTally();

    /** Where apply units go (the applier; blocks when full). */
    interface UnitSink {
        void submit(ApplyUnit unit);
    }

    /** Told when one of this node's own changesets has come back in total order. */
    interface LocalDelivered {
        void delivered(ChangeSet cs, Gsn gsn);
    }

    /**
     * @param replayFrom GSNs above it and up to {@code replayUpTo} are replayed (certified again, not applied)
     * @param recorded   the conflicts recorded in chorus.conflicts for the replayed GSNs, by GSN
     * @param replaySpill the file the replayed changesets are kept in until the pending rows are rebuilt
     */
    Delivery(NodeId self, String database, WireCodec codec, Certifier certifier, ReentrantLock pendingLock,
             Runnable drainLocals, UnitSink sink, LocalDelivered localDelivered, Gsn replayFrom, Gsn replayUpTo,
             Map<Long, List<ConflictRow>> recorded, DdlOrder ddlOrder, Path replaySpill) {
        this.replayed = ReplaySpill.open(replaySpill, codec, self);
        this.self = self;
        this.ddlOrder = ddlOrder;
        this.database = database;
        this.codec = codec;
        this.certifier = certifier;
        this.pendingLock = pendingLock;
        this.drainLocals = drainLocals;
        this.replayFrom = replayFrom;
        this.recorded = recorded;
        this.sink = sink;
        this.localDelivered = localDelivered;
        this.replayUpTo = replayUpTo;
    }

    void deliver(Gsn gsn, byte[] payload) throws InterruptedException {
        if (gsn.isAfter(replayUpTo)) {
            awaitLive();
            if (abandoned) {
                return;
            }
        }
        ThreadContext.put("gsn", gsn.toString());
        try {
            LogRecord record = LogRecord.decode(payload, codec);
            boolean replay = !gsn.isAfter(replayUpTo);
            if (record instanceof LogRecord.Changes c) {
                changes(gsn, c.changeSet(), replay, payload);
                ddlOrder.onChanges(c.changeSet(), gsn, barriers);
            } else if (record instanceof LogRecord.Watermark w) {
                certifier.onWatermark(w.node(), w.watermark());
                progress(gsn, replay);
            } else if (record instanceof LogRecord.Barrier b) {
                if (!ddlOrder.onBarrier(b.node(), b.token(), gsn, barriers) && b.node().equals(self)) {
                    barriers.put(b.token(), gsn);
                }
                progress(gsn, replay);
            } else if (record instanceof LogRecord.Transfer) {
                progress(gsn, replay);
            }
            delivered.set(gsn.value());
            synchronized (delivered) {
                delivered.notifyAll();
            }
        } finally {
            ThreadContext.remove("gsn");
        }
    }

    private void changes(Gsn gsn, ChangeSet cs, boolean replay, byte[] payload) {
        boolean local = cs.origin().equals(self);
        if (replay) {
            replay(gsn, cs, local, payload);
            return;
        }
        Verdict v = certifier.certify(gsn, cs);
        if (!v.conflicts().isEmpty()) {
            conflicts.addAndGet(v.conflicts().size());
            conflictTally.add(cs.origin().value(), String.valueOf(v.conflicts().get(0).kind()), v.conflicts().size());
            LOG.debug("GSN {} from {}: {} of {} row changes lost ({})", gsn, cs.origin(), v.conflicts().size(),
                    cs.rowCount(), v.conflicts().get(0).kind());
        }
        List<RestoreRow> restores;
        pendingLock.lock();
        try {
            drainLocals.run();
            if (local) {
                pending.onOwnDelivered(v);
                restores = List.of();
            } else {
                restores = pending.onRemoteWinner(v);
            }
        } finally {
            pendingLock.unlock();
        }
        if (LOG.isTraceEnabled()) {
            LOG.trace("GSN {} {} deps {}: lost {}; restores {}; changes {}", gsn, cs.gtid(), cs.deps(), v.lostIndexes(),
                    RestoreRow.describe(restores), describe(cs));
        }
        if (local) {
            localDelivered.delivered(cs, gsn);
        }
        sink.submit(new ApplyUnit(gsn, cs.gtid(), cs.commitTime(), local, restores,
                local ? ownDdl(cs) : v.winningChanges(), v.conflictRows(), v.allKeys()));
    }

    /**
     * The DDL messages of this node's own changeset: its unit runs nothing (the statements ran here) but records the
     * schema they left at their GSN ({@code SchemaAtWatermark}).
     */
    private static List<io.chorus.changeset.Change> ownDdl(ChangeSet cs) {
        List<io.chorus.changeset.Change> ddl = new ArrayList<>();
        for (io.chorus.changeset.Change c : cs.changes()) {
            if (io.chorus.schema.DdlMessage.isDdl(c)) {
                ddl.add(c);
            }
        }
        return ddl;
    }

    /** The changeset's row images, for tracing a row through the log. */
    private static String describe(ChangeSet cs) {
        StringBuilder sb = new StringBuilder();
        for (io.chorus.changeset.Change c : cs.changes()) {
            if (c instanceof io.chorus.changeset.RowChange rc) {
                sb.append(' ').append(rc.op()).append(' ').append(rc.relation().name()).append(" new=")
                        .append(rc.newTuple()).append(" old=").append(rc.oldTuple());
            }
        }
        return sb.toString();
    }

    /**
     * A GSN this node applied before it restarted: decided again (identically), for the index and the pending rows
     * (the verdict goes to the spill with the record it came in, not kept in memory).
     */
    private void replay(Gsn gsn, ChangeSet cs, boolean local, byte[] payload) {
        if (cs.deps().isBefore(replayFrom)) {
            certifier.replayDecided(gsn, cs, recorded.getOrDefault(gsn.value(), List.of()));
        } else {
            replayed.add(certifier.certify(gsn, cs), payload);
        }
        if (local) {
            replayedOwn.add(cs.gtid());
            localDelivered.delivered(cs, gsn);
        }
    }

    /**
     * Verdicts of the replayed GSNs whose deps were inside the replay, in GSN order (for the pending-row rebuild), read
     * back from the spill file; valid until {@link #goLive} or {@link #abandon}.
     */
    ReplayedVerdicts replayedVerdicts() {
        return replayed;
    }

    boolean replayedOwn(Gtid gtid) {
        return replayedOwn.contains(gtid);
    }

    /** Ends the replay: deliveries above the watermark go on, with this pending-row tracker. */
    void goLive(PendingTracker tracker) {
        this.pending = tracker;
        live.countDown();
        replayed.discard();
    }

    /**
     * Ends the wait of deliveries above W for a start that will not go live (the domain closes): they return without
     * effect, so that a group join applying this member's log can finish and be closed.
     */
    void abandon() {
        abandoned = true;
        live.countDown();
        replayed.discard();
    }

    private void awaitLive() throws InterruptedException {
        while (!live.await(10, TimeUnit.SECONDS)) {
            LOG.info("GSN deliveries above W={} wait for the restart of domain {} to finish", replayUpTo, database);
        }
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

    /** Waits until GSN {@code gsn} has been delivered or the deadline passes; returns whether it was. */
    boolean awaitDelivered(Gsn gsn, long deadlineNanos) throws InterruptedException {
        synchronized (delivered) {
            long left;
            while (delivered.get() < gsn.value() && (left = deadlineNanos - System.nanoTime()) > 0) {
                TimeUnit.NANOSECONDS.timedWait(delivered, Math.min(left, TimeUnit.SECONDS.toNanos(1)));
            }
            return delivered.get() >= gsn.value();
        }
    }

    long delivered() {
        return delivered.get();
    }

    /**
     * The conflicts certified since the last call, as one line for the log (null when none): how many changesets lost
     * how many row changes, by the first conflict's kind and by origin. The rows are in {@code chorus.conflicts}.
     */
    String takeConflictSummary() {
        return conflictTally.takeSummary();
    }

    long conflicts() {
        return conflicts.get();
    }


}
