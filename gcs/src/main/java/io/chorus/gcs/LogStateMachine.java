package io.chorus.gcs;

import java.io.DataInput;
import java.io.DataOutput;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.raft.StateMachine;

/**
 * The replicated log's state machine: numbers the records of each committed entry (GSN = position among delivered,
 * non-duplicate records), drops duplicates ({@link OriginTable}) and hands records to the {@link Deliverer}. Its
 * state, the GSN counter and the origin table, is what a snapshot holds. Called by the Raft thread; snapshots may
 * be taken from another thread, hence the lock.
 */
final class LogStateMachine implements StateMachine {
    private static final Logger LOG = LogManager.getLogger(LogStateMachine.class);
    private static final byte SNAPSHOT_VERSION = 1;

    private final Deliverer deliverer;
    private final OriginTable origins = new OriginTable();
    private long lastGsn;
    private long snapshotGsn;
    private volatile long appliedGsn;
    private volatile boolean live;

    LogStateMachine(Deliverer deliverer) {
        this.deliverer = deliverer;
    }

    @Override
    public synchronized byte[] apply(byte[] data, int offset, int length, boolean serializeResponse) {
        EntryCodec.Entry e = EntryCodec.decode(data, offset, length);
        long[] cached = origins.retriedResponse(e.origin(), e.incarnation(), e.batchNo());
        if (cached != null) {
            LOG.debug("entry {}/{} of {} applied before; answering from the origin table", e.incarnation(),
                    e.batchNo(), e.origin());
            return serializeResponse ? EntryCodec.encodeResponse(cached) : null;
        }
        long[] gsns = new long[e.records().size()];
        for (int i = 0; i < gsns.length; i++) {
            EntryCodec.Rec r = e.records().get(i);
            long dup = origins.duplicateOf(e.origin(), r.seq());
            if (dup != 0) {
                gsns[i] = Math.max(dup, 0);
                LOG.trace("dropped duplicate record {}/{}", e.origin(), r.seq());
                continue;
            }
            long gsn = ++lastGsn;
            origins.delivered(e.origin(), r.seq(), gsn);
            gsns[i] = gsn;
            deliverer.record(gsn, e.origin(), r.seq(), r.payload());
        }
        origins.applied(e.origin(), e.incarnation(), e.batchNo(), gsns);
        appliedGsn = lastGsn;
        return serializeResponse ? EntryCodec.encodeResponse(gsns) : null;
    }

    @Override
    public synchronized void readContentFrom(DataInput in) throws Exception {
        byte version = in.readByte();
        if (version != SNAPSHOT_VERSION) {
            throw new IllegalStateException("snapshot has format version " + version + ", this build reads "
                    + SNAPSHOT_VERSION);
        }
        lastGsn = in.readLong();
        origins.readFrom(in);
        snapshotGsn = lastGsn;
        appliedGsn = lastGsn;
        LOG.info("state machine loaded from a snapshot ending at GSN {}", lastGsn);
        deliverer.snapshotInstalled(lastGsn, live ? "the leader's" : "this member's");
    }

    @Override
    public synchronized void writeContentTo(DataOutput out) throws Exception {
        out.writeByte(SNAPSHOT_VERSION);
        out.writeLong(lastGsn);
        origins.writeTo(out);
        snapshotGsn = lastGsn;
        LOG.info("snapshot written at GSN {}", lastGsn);
    }

    /** Marks the end of the local replay: snapshots read from now on come from the leader. */
    void live() {
        live = true;
    }

    /** The highest GSN assigned so far (lags the leader on a follower). */
    long appliedGsn() {
        return appliedGsn;
    }

    /** The last GSN compacted into a snapshot known to this member (0 if none). */
    synchronized long snapshotGsn() {
        return snapshotGsn;
    }
}
