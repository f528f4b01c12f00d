package io.chorus.coordinator.domain;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.RelationName;
import io.chorus.coordinator.apply.ApplyGuard;
import io.chorus.coordinator.apply.ApplyUnit;
import io.chorus.schema.DdlMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListSet;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Tells the capture side when the schema changed under it, so the catalog the keys are derived from is read again.
 * A remote DDL statement changes this database when the helper that applied it commits; the capture sees that commit
 * in WAL order among the local commits, so local commits decoded after it are keyed against the new definition.
 *
 * <p>Also remembers the tables this node's own DDL statements renamed or dropped, and the columns they renamed, until
 * every GSN before the statement's is committed here: a remote change ordered before such a statement, and not seen
 * by it, reaches this node after it and still names the table and its columns as they were. The applier asks {@link
 * #localMove} and {@link #localColumnRenames}: it then writes the change under the new names, or drops it with the
 * table (the other nodes apply it, then run the statement: the same end).
 *
 * <p>Thread-safe: {@link #delivered} runs on the delivery thread, {@link #helperCommitted} and {@link #localDdl} on
 * the capture thread, {@link #localMove}, {@link #localColumnRenames} and {@link #committed} on helper threads.
 */
final class SchemaChanges {
    private static final Logger LOG = LogManager.getLogger(SchemaChanges.class);
    /** Bounds the moves remembered (a node renames or drops tables rarely; the oldest are forgotten first). */
    private static final int MAX_MOVES = 1_000;
    private final NavigableSet<Long> pendingDdl = new ConcurrentSkipListSet<>();

    /**
     * One table renamed ({@code to} present) or dropped by a local DDL, or, when {@code column} is present, one of its
     * columns renamed ({@code from} is then the table, {@code column} the old and the new column name); gsn once the
     * DDL was delivered.
     */
    private record Move(Lsn commitLsn, RelationName from, Optional<RelationName> to, Optional<DdlMessage.ColumnRename> column,
                        Gsn gsn) {
        Move delivered(Gsn at) {
            return new Move(commitLsn, from, to, column, at);
        }
    }

    private final List<Move> moves = new ArrayList<>(); // guarded by this, in commit order

    /** A unit is handed to the applier: remember its GSN when it runs remote DDL. */
    void delivered(ApplyUnit unit) {
        if (!unit.local() && hasDdl(unit.changes())) {
            pendingDdl.add(unit.gsn().value());
        }
    }

    /** A helper commit up to {@code applied} was decoded; returns whether it committed DDL (the catalog is stale). */
    boolean helperCommitted(Gsn applied) {
        if (pendingDdl.isEmpty() || pendingDdl.first() > applied.value()) {
            return false;
        }
        pendingDdl.headSet(applied.value(), true).clear();
        return true;
    }

    /** A local changeset was captured: remembers the tables its DDL statements renamed or dropped. */
    void localDdl(ChangeSet cs) {
        for (Change c : cs.changes()) {
            if (!DdlMessage.isDdl(c)) {
                continue;
            }
            DdlMessage m = DdlMessage.of((MessageChange) c);
            synchronized (this) {
                Lsn at = cs.gtid().commitLsn();
                if (!m.renamed().isEmpty()) {
                    remember(new Move(at, m.renamed().get(0), Optional.of(m.renamed().get(1)), Optional.empty(), null));
                }
                for (RelationName t : m.dropped()) {
                    remember(new Move(at, t, Optional.empty(), Optional.empty(), null));
                }
                for (DdlMessage.ColumnRename r : m.renamedColumns()) {
                    remember(new Move(at, r.table(), Optional.of(r.table()), Optional.of(r), null));
                }
            }
        }
    }

    private void remember(Move m) {
        if (moves.size() >= MAX_MOVES) {
            moves.remove(0);
        }
        moves.add(m);
        if (m.column().isPresent()) {
            LOG.info("local DDL renamed column {} of {} to {}: remote changes ordered before it are applied under the "
                    + "new name", m.column().get().from(), m.from(), m.column().get().to());
            return;
        }
        LOG.info("local DDL {} {}{}: remote changes ordered before it are applied {}", m.to().isPresent() ? "renamed"
                : "dropped", m.from(), m.to().map(t -> " to " + t).orElse(""), m.to().isPresent()
                ? "under the new name" : "as dropped with it");
    }

    /** This node's changeset committed at {@code commitLsn} was delivered at {@code gsn}. */
    synchronized void localDelivered(Lsn commitLsn, Gsn gsn) {
        for (int i = 0; i < moves.size(); i++) {
            Move m = moves.get(i);
            if (m.commitLsn().equals(commitLsn) && m.gsn() == null) {
                moves.set(i, m.delivered(gsn));
            }
        }
    }

    /** Every GSN up to {@code upTo} is committed here: no remote change ordered before those moves can come. */
    synchronized void committed(Gsn upTo) {
        moves.removeIf(m -> m.gsn() != null && !m.gsn().isAfter(upTo));
    }

    /**
     * Where {@code table} is now if this node's DDL renamed or dropped it (following later renames of the new name),
     * or empty when no local DDL moved it.
     */
    synchronized Optional<ApplyGuard.TableMove> localMove(RelationName table) {
        Map<RelationName, Move> latest = new HashMap<>();
        for (Move m : moves) {
            if (m.column().isEmpty()) {
                latest.put(m.from(), m);
            }
        }
        Move m = latest.get(table);
        if (m == null) {
            return Optional.empty();
        }
        Optional<RelationName> now = m.to();
        for (int hops = 0; now.isPresent() && latest.containsKey(now.get()) && hops < moves.size(); hops++) {
            now = latest.get(now.get()).to();
        }
        return Optional.of(new ApplyGuard.TableMove(table, now));
    }

    /**
     * The columns of {@code table} (its name now) this node's DDL renamed, old name to the name now (following later
     * renames of the new name); empty when none.
     */
    synchronized Map<String, String> localColumnRenames(RelationName table) {
        Map<String, String> now = new HashMap<>();
        for (Move m : moves) { // commit order: a later rename of the new name continues the chain
            if (m.column().isEmpty() || !m.from().equals(table)) {
                continue;
            }
            String from = m.column().get().from();
            String to = m.column().get().to();
            now.replaceAll((old, current) -> current.equals(from) ? to : current);
            now.putIfAbsent(from, to);
        }
        return now;
    }

    static boolean hasDdl(ChangeSet cs) {
        return hasDdl(cs.changes());
    }

    private static boolean hasDdl(Iterable<Change> changes) {
        for (Change c : changes) {
            if (DdlMessage.isDdl(c)) {
                return true;
            }
        }
        return false;
    }
}
