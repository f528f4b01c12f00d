package io.chorus.gcs;

import java.io.DataInput;
import java.io.DataOutput;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.raft.StateMachine;

/**
 * The replicated log's state machine: numbers the records of each committed entry (GSN = position among delivered,
 * non-duplicate records), drops duplicates, applies each origin's entries in their order ({@link OriginTable}) and
 * hands records to the {@link Deliverer}; a forced bootstrap's history entry starts a new {@link History}. It keeps
 * the catalog entries records bring (before the record is delivered, so a delivered record resolves every entry
 * committed up to it). Its state, the GSN counter, the origin table, the history line and the catalog, is what a
 * snapshot holds. Called by the Raft thread; snapshots may
 * be taken from another thread, hence the lock.
 */
final class LogStateMachine implements StateMachine {
    private static final Logger LOG = LogManager.getLogger(LogStateMachine.class);
    private static final byte SNAPSHOT_VERSION = 4;
    private final DefinitionCatalog catalog;

    private final Deliverer deliverer;
    private final OriginTable origins = new OriginTable();
    private long lastGsn;
    private long snapshotGsn;
    private volatile long appliedGsn;
    private volatile History history = History.FIRST;
    private volatile boolean live;

    LogStateMachine(Deliverer deliverer) {
        this(deliverer, new DefinitionCatalog());
    }

    LogStateMachine(Deliverer deliverer, DefinitionCatalog catalog) {
        this.deliverer = deliverer;
        this.catalog = catalog;
    }

    @Override
    public synchronized byte[] apply(byte[] data, int offset, int length, boolean serializeResponse) {
        if (EntryCodec.isHistory(data, offset, length)) {
            startHistory(EntryCodec.decodeHistory(data, offset, length));
            return serializeResponse ? EntryCodec.encodeResponse(new long[0]) : null;
        }
        EntryCodec.Entry e = EntryCodec.decode(data, offset, length);
        long[] gsns;
        if (e.version() == 1) {
            // written by an older build (one entry in flight per origin): only the last entry can be a retry
            long[] cached = origins.cachedResponse(e.origin(), e.incarnation(), e.batchNo());
            boolean last = cached != null && origins.expectedBatch(e.origin(), e.incarnation()) == e.batchNo() + 1;
            gsns = last ? cached : applyRecords(e);
        } else {
            switch (origins.verdict(e.origin(), e.incarnation(), e.batchNo())) {
                case APPLY -> gsns = applyRecords(e);
                case RETRY -> gsns = retried(e);
                default -> {
                    long expected = origins.expectedBatch(e.origin(), e.incarnation());
                    LOG.debug("entry {}/{} of {} is out of order (expected {}); not applied", e.incarnation(),
                            e.batchNo(), e.origin(), expected);
                    return serializeResponse ? EntryCodec.encodeOutOfOrder(expected) : null;
                }
            }
        }
        return serializeResponse ? EntryCodec.encodeResponse(gsns) : null;
    }

    /**
     * A forced bootstrap: the history it starts forks after the last GSN numbered so far (the forced member's whole
     * log, replayed before this entry). Numbers no record.
     */
    private void startHistory(EntryCodec.HistoryStart h) {
        long agreed = h.agreedGsn();
        if (agreed > lastGsn) {
            LOG.warn("history entry of {} says GSN {} was committed, but this log numbers only up to {}: taking {}",
                    h.by(), agreed, lastGsn, lastGsn);
            agreed = lastGsn;
        }
        history = history.then(new History.Fork(h.id(), h.by(), h.term(), agreed, lastGsn));
        LOG.info("the log starts {} (records up to GSN {} shared with the history before)", history, agreed);
        deliverer.history(history);
    }

    /** The answer to an entry applied before: cached, or (applied long ago) 0 = GSN unknown for each record. */
    private long[] retried(EntryCodec.Entry e) {
        LOG.debug("entry {}/{} of {} applied before; answering from the origin table", e.incarnation(), e.batchNo(),
                e.origin());
        long[] cached = origins.cachedResponse(e.origin(), e.incarnation(), e.batchNo());
        return cached != null ? cached : new long[e.records().size()];
    }

    private long[] applyRecords(EntryCodec.Entry e) {
        long[] gsns = new long[e.records().size()];
        for (int i = 0; i < gsns.length; i++) {
            EntryCodec.Rec r = e.records().get(i);
            catalog.learn(r.catalog());
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
        return gsns;
    }

    /** The bytes of catalog entry {@code id}, or null. Lock-free. */
    byte[] catalogEntry(long id) {
        return catalog.definition(id);
    }

    @Override
    public synchronized void readContentFrom(DataInput in) throws Exception {
        byte version = in.readByte();
        if (version > SNAPSHOT_VERSION || version < 1) {
            throw new IllegalStateException("snapshot has format version " + version + ", this build reads 1 to "
                    + SNAPSHOT_VERSION + "; upgrade this member to the group's version");
        }
        lastGsn = in.readLong();
        origins.readFrom(in, Math.min(version, 2));
        History before = history;
        history = version >= 3 ? History.readFrom(in) : History.FIRST;
        if (version >= 4) {
            catalog.readFrom(in); // added to what this member knew: an id never changes meaning
        }
        if (!history.equals(before)) {
            deliverer.history(history);
        }
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
        history.writeTo(out);
        catalog.writeTo(out);
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

    /** The history line of this member's copy of the log (as far as applied). */
    History history() {
        return history;
    }

    /** The highest originSeq of {@code origin} delivered so far in this member's copy (0 if none). */
    synchronized long lastSeq(String origin) {
        return origins.lastSeq(origin);
    }

    /** The last GSN compacted into a snapshot known to this member (0 if none). */
    synchronized long snapshotGsn() {
        return snapshotGsn;
    }
}
