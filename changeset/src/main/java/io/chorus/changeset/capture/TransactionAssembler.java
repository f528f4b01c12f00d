package io.chorus.changeset.capture;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import io.chorus.changeset.pgoutput.PgOutputMessage;
import io.chorus.changeset.pgoutput.PgOutputMessage.Begin;
import io.chorus.changeset.pgoutput.PgOutputMessage.Commit;
import io.chorus.changeset.pgoutput.PgOutputMessage.Delete;
import io.chorus.changeset.pgoutput.PgOutputMessage.Insert;
import io.chorus.changeset.pgoutput.PgOutputMessage.LogicalMessage;
import io.chorus.changeset.pgoutput.PgOutputMessage.OldTupleKind;
import io.chorus.changeset.pgoutput.PgOutputMessage.Origin;
import io.chorus.changeset.pgoutput.PgOutputMessage.RelationMessage;
import io.chorus.changeset.pgoutput.PgOutputMessage.Truncate;
import io.chorus.changeset.pgoutput.PgOutputMessage.Update;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Turns the pgoutput messages of one stream into commits: BEGIN..COMMIT becomes a local {@link ChangeSet} or, when the
 * transaction carries an Origin whose name starts with the helper prefix, a helper commit. Changes to tables in schema
 * {@value #OWN_SCHEMA} (Chorus' bookkeeping) are dropped; a local transaction left empty is not emitted.
 *
 * <p>deps: the GSN (= origin LSN) of the last helper commit seen before a local commit, in WAL commit order — exact,
 * because the stream delivers commits in commit-LSN order (DESIGN §3). Reader thread only; not thread-safe.
 */
final class TransactionAssembler {
    static final String OWN_SCHEMA = "chorus";
    private static final Logger LOG = LogManager.getLogger(TransactionAssembler.class);

    /** Where finished transactions go. */
    interface Output {
        /**
         * A local changeset. {@code spillFile} is non-null when its changes stream from disk: the receiver owns it
         * and closes it once the changeset is no longer needed.
         */
        void localCommit(ChangeSet cs, Lsn endLsn, AutoCloseable spillFile);

        void helperCommit(String originName, Gsn appliedGsn, Lsn commitLsn, Lsn endLsn);

        /** A transaction with nothing to emit (only bookkeeping changes, or a foreign origin's empty one). */
        void emptyCommit(Lsn commitLsn, Lsn endLsn);

        /** A non-transactional logical message, decoded at once at its WAL position (a control signal, not data). */
        default void controlMessage(String prefix, byte[] content, Lsn lsn) {
        }
    }

    private final NodeId node;
    private final String helperPrefix;
    private final Supplier<ChangeCollector> collectors;
    private final Output out;
    private final Map<Integer, Relation> relations = new HashMap<>();
    private Gsn deps;
    private Begin begin;
    private Origin origin;
    private ChangeCollector changes;

    TransactionAssembler(NodeId node, String helperPrefix, Gsn deps, Supplier<ChangeCollector> collectors, Output out) {
        this.node = node;
        this.helperPrefix = helperPrefix;
        this.deps = deps;
        this.collectors = collectors;
        this.out = out;
    }

    Gsn deps() {
        return deps;
    }

    boolean inTransaction() {
        return begin != null;
    }

    /**
     * Whether the transaction being read is a helper's: it emits nothing but its commit, so its row messages need
     * not even be parsed (on a node that only applies, they are nearly all of the stream). pgoutput sends a
     * transaction's Origin right after its Begin, before any row.
     */
    boolean skipsRows() {
        return origin != null && origin.name().startsWith(helperPrefix);
    }

    /** Starts over at a stream position whose deps are {@code depsThere} (after a reconnect). */
    void restart(Gsn depsThere) {
        abandon();
        relations.clear();
        deps = depsThere;
    }

    void abandon() {
        if (changes != null) {
            changes.close();
        }
        changes = null;
        begin = null;
        origin = null;
    }

    void accept(PgOutputMessage m) {
        switch (m.type()) {
            case 'B' -> begin((Begin) m);
            case 'C' -> commit((Commit) m);
            case 'O' -> origin = (Origin) m;
            case 'R' -> relations.put(((RelationMessage) m).oid(), relation((RelationMessage) m));
            case 'Y' -> LOG.trace("type message {}", m);
            case 'I' -> insert((Insert) m);
            case 'U' -> update((Update) m);
            case 'D' -> delete((Delete) m);
            case 'T' -> truncate((Truncate) m);
            case 'M' -> message((LogicalMessage) m);
            default -> throw inconsistent("streaming message " + m + " although streaming was not requested");
        }
    }

    private void insert(Insert i) {
        row(i.relationOid(), Op.INSERT, i.newTuple(), null, null);
    }

    private void update(Update u) {
        row(u.relationOid(), Op.UPDATE, u.newTuple(), u.oldTuple(), u.oldKind());
    }

    private void delete(Delete d) {
        row(d.relationOid(), Op.DELETE, null, d.oldTuple(), d.oldKind());
    }

    private void begin(Begin b) {
        if (begin != null) {
            throw inconsistent("BEGIN of xid " + b.xid() + " inside the transaction of xid " + begin.xid());
        }
        begin = b;
        origin = null;
        changes = collectors.get();
    }

    private void commit(Commit c) {
        requireTransaction("COMMIT");
        if (!c.commitLsn().equals(begin.finalLsn())) {
            throw inconsistent("COMMIT at " + c.commitLsn() + " but BEGIN announced " + begin.finalLsn());
        }
        try {
            if (origin != null && origin.name().startsWith(helperPrefix)) {
                Gsn applied = Gsn.of(origin.originLsn().value());
                if (applied.equals(Gsn.NONE)) {
                    LOG.warn("helper commit {} of origin {} recorded no GSN (pg_replication_origin_xact_setup missing): deps stays {}",
                            c.commitLsn(), origin.name(), deps);
                } else {
                    deps = applied;
                }
                out.helperCommit(origin.name(), applied, c.commitLsn(), c.endLsn());
                return;
            }
            if (changes.isEmpty()) {
                out.emptyCommit(c.commitLsn(), c.endLsn());
                return;
            }
            ChangeSet cs = new ChangeSet(new Gtid(node, c.commitLsn()), begin.xid(), c.commitTime(), deps, changes.finish());
            ChangeCollector spilled = changes.spilled() ? changes : null;
            if (spilled != null) {
                changes = null; // ownership passes with the changeset
            }
            out.localCommit(cs, c.endLsn(), spilled);
        } finally {
            abandon();
        }
    }

    private static Relation relation(RelationMessage r) {
        String schema = r.namespace().isEmpty() ? "pg_catalog" : r.namespace();
        return new Relation(RelationName.of(schema, r.name()), r.replicaIdentity(), r.columns());
    }

    private void row(int oid, Op op, Tuple newTuple, Tuple oldTuple, OldTupleKind oldKind) {
        requireTransaction(op.name());
        if (skipsRows()) {
            return;
        }
        Relation rel = relationOf(oid);
        if (isOwn(rel)) {
            return;
        }
        checkWidth(rel, newTuple);
        checkWidth(rel, oldTuple);
        RowChange rc = new RowChange(rel, op, newTuple, oldTuple, oldKind == OldTupleKind.KEY, List.of());
        if (LOG.isTraceEnabled()) {
            LOG.trace("{} {} new={} old={}", op, rel.name(), newTuple, oldTuple);
        }
        changes.add(rc);
    }

    private void truncate(Truncate t) {
        requireTransaction("TRUNCATE");
        List<RelationName> names = new ArrayList<>();
        for (int oid : t.relationOids()) {
            Relation rel = relationOf(oid);
            if (!isOwn(rel)) {
                names.add(rel.name());
            }
        }
        if (!names.isEmpty()) {
            changes.add(new TruncateChange(names, (t.options() & Truncate.CASCADE) != 0,
                    (t.options() & Truncate.RESTART_IDENTITY) != 0));
        }
    }

    private void message(LogicalMessage lm) {
        if (!lm.transactional()) {
            // not replicated: reported as a control signal (every commit before its LSN has been emitted already)
            out.controlMessage(lm.prefix(), lm.content(), lm.lsn());
            return;
        }
        requireTransaction("transactional message");
        changes.add(new MessageChange(lm.prefix(), lm.content()));
    }

    private Relation relationOf(int oid) {
        Relation rel = relations.get(oid);
        if (rel == null) {
            throw inconsistent("change to relation oid " + oid + " before its Relation message");
        }
        return rel;
    }

    private static boolean isOwn(Relation rel) {
        return OWN_SCHEMA.equals(rel.name().schema());
    }

    private static void checkWidth(Relation rel, Tuple t) {
        if (t != null && t.size() != rel.columnCount()) {
            throw inconsistent("tuple of " + t.size() + " columns for " + rel.name() + " with " + rel.columnCount() + " columns");
        }
    }

    private void requireTransaction(String what) {
        if (begin == null) {
            throw inconsistent(what + " outside BEGIN..COMMIT");
        }
    }

    /** The stream contradicts itself; a fresh session (which re-sends Relation messages) may cure it. */
    private static CaptureException inconsistent(String what) {
        return new CaptureException("inconsistent pgoutput stream: " + what + "; reconnecting from the confirmed position", null, true);
    }
}
