package io.chorus.coordinator.apply;

import io.chorus.changeset.Change;
import io.chorus.changeset.Column;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import io.chorus.schema.DdlMessage;
import io.chorus.schema.DdlRunner;
import io.chorus.schema.SchemaAtWatermark;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Writes apply units into a helper's open transaction, in one of two modes. Batched: consecutive rows of one statement
 * shape go to the server as one JDBC batch; any doubt (a row count of 0, any non-retriable error) is reported as
 * {@link Recheck} so the caller re-runs in careful mode. Careful: one statement at a time, INSERTs under a savepoint,
 * so the exact row that diverges (or the exact error) is pinned to its GSN.
 *
 * <p>Not thread-safe: used by one helper thread.
 */
final class RowWriter {
    private static final Logger LOG = LogManager.getLogger(RowWriter.class);

    /** Batched mode met something that needs careful mode to judge. */
    static final class Recheck extends Exception {
        private static final long serialVersionUID = 1L;

        Recheck(String why, Throwable cause) {
            super(why, cause, false, false);
        }
    }

    private final HelperSession session;
    private final PendingRows pendingRows;
    private final boolean careful;
    private final RowBatcher batcher;
    private int conflictRows;

    RowWriter(HelperSession session, boolean careful) {
        this.session = session;
        this.pendingRows = session.config().pendingRows();
        this.careful = careful;
        this.batcher = careful ? null : new RowBatcher(session);
    }

    /**
     * Writes the late restores, then the units (restores, changes, conflicts), and records progress = the last unit's
     * GSN. No commit. Returns the WAL positions read after the last write (see {@link HelperSession#recordProgress}).
     */
    HelperSession.WalPositions write(List<ApplyUnit> units, Gsn progress, Batch batch, List<RestoreRow> late) throws SQLException, Recheck {
        // the session caches this statement: a previous attempt that stopped before executing it left rows in its batch
        session.conflictInsert().clearBatch();
        for (ApplyUnit u : units) {
            lockParents(u);
        }
        if (batcher != null && late.isEmpty() && arrangeable(units)) {
            writeArranged(units);
        } else {
            writeInOrder(units, late);
        }
        flush();
        if (conflictRows > 0) {
            session.conflictInsert().executeBatch();
            conflictRows = 0;
        }
        return session.recordProgress(progress, batch.commitTimeOf(units.get(units.size() - 1)));
    }

    private void writeInOrder(List<ApplyUnit> units, List<RestoreRow> late) throws SQLException, Recheck {
        for (int i = 0; i < units.size(); i++) {
            ApplyUnit u = units.get(i);
            writeRestores(u, i == 0 ? withLate(late, u.restores()) : inPlace(units, i, late));
            boolean ddl = false;
            for (Change c : u.changes()) {
                writeChange(u, c);
                ddl |= DdlMessage.isDdl(c);
            }
            if (ddl) { // the group's schema at this GSN, atomically with the progress that passes it (DESIGN §6)
                SchemaAtWatermark.record(session.connection(), u.gsn());
            }
            for (ConflictRow r : u.conflicts()) {
                addConflict(r);
            }
        }
    }

    /**
     * Whether {@link RowOrder} may arrange the units' rows: row changes only, no restores, no TRUNCATE and no logical
     * message (DDL runs exactly where it was decoded).
     */
    private static boolean arrangeable(List<ApplyUnit> units) {
        for (ApplyUnit u : units) {
            if (!u.restores().isEmpty() || u.changes().stream().anyMatch(c -> !(c instanceof RowChange))) {
                return false;
            }
        }
        return true;
    }

    /** Sends the units' rows in the order {@link RowOrder} arranges (batched mode only). */
    private void writeArranged(List<ApplyUnit> units) throws SQLException, Recheck {
        List<RowOrder.Row> rows = new ArrayList<>();
        for (ApplyUnit u : units) {
            for (Change c : u.changes()) {
                RowChange rc = adapt((RowChange) c);
                if (rc == null) {
                    continue;
                }
                rows.add(new RowOrder.Row(u, RowStatement.of(rc, session.matchColumns(rc.relation())),
                        hasSecondaryUnique(rc)));
            }
            for (ConflictRow r : u.conflicts()) {
                addConflict(r);
            }
        }
        for (RowOrder.Row r : RowOrder.arrange(rows)) {
            add(r.unit(), r.statement(), false);
        }
    }

    private static boolean hasSecondaryUnique(RowChange rc) {
        for (Key k : rc.keys()) {
            if (k.kind() != KeyKind.REFERENCE && k.kind() != KeyKind.TABLE
                    && !HelperSession.IDENTITY_INDEX.equals(k.index()) && k.relation().equals(rc.relation().name())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The first unit's rollbacks and the late ones as one set (deleted together, then inserted together, so unique
     * values can swap); for a row in both, the late rollback wins: it was computed knowing more local commits.
     */
    private static List<RestoreRow> withLate(List<RestoreRow> late, List<RestoreRow> own) {
        if (late.isEmpty()) {
            return own;
        }
        List<RestoreRow> all = new ArrayList<>(late);
        for (RestoreRow r : own) {
            if (late.stream().noneMatch(l -> Batch.sameRow(l, r))) {
                all.add(r);
            }
        }
        return all;
    }

    /**
     * The own rollbacks of unit {@code i} (not the first) to write in their place. The late set, written before the
     * first unit, holds each row at the target of the highest GSN that rolls it back; a row it took to the target a
     * later unit of the batch restores it to again is left there, unless a winner from this unit until that one
     * writes the row (it must find the version it was certified against). Taken back to this unit's target, it could
     * meet a unique value the late set already gave back to another row (seed 2173508278: p2 back to u=3 after p0 got
     * u=3 in the late set; p2 was to go away at the next GSN).
     */
    private List<RestoreRow> inPlace(List<ApplyUnit> units, int i, List<RestoreRow> late) throws SQLException {
        List<RestoreRow> own = units.get(i).restores();
        if (late.isEmpty() || own.isEmpty()) {
            return own;
        }
        List<RestoreRow> out = new ArrayList<>(own.size());
        for (RestoreRow r : own) {
            if (restoredLater(units, i, r, late)) {
                LOG.debug("GSN {}: rollback of {}{} left at the late set's target, which GSN after it restores",
                        units.get(i).gsn(), r.relation().name(), r.identity());
            } else {
                out.add(r);
            }
        }
        return out;
    }

    private boolean restoredLater(List<ApplyUnit> units, int i, RestoreRow r, List<RestoreRow> late)
            throws SQLException {
        RestoreRow early = null;
        for (RestoreRow l : late) {
            if (Batch.sameRow(l, r)) {
                early = l;
            }
        }
        if (early == null || Objects.equals(early.target(), r.target()) || writes(units.get(i), r)) {
            return false;
        }
        for (int j = i + 1; j < units.size(); j++) {
            for (RestoreRow o : units.get(j).restores()) {
                if (Batch.sameRow(o, r)) {
                    return Objects.equals(o.target(), early.target());
                }
            }
            if (writes(units.get(j), r)) {
                return false;
            }
        }
        return false;
    }

    /** Whether a change of unit {@code u} writes the row {@code r} restores (same primary key; when unsure, yes). */
    private boolean writes(ApplyUnit u, RestoreRow r) throws SQLException {
        RelationName table = r.relation().name();
        List<String> pk = session.indexColumns(table, HelperSession.PRIMARY_KEY);
        List<String> key = new ArrayList<>(pk.size());
        List<String> restoreKeyNames = new ArrayList<>();
        for (Column col : r.relation().columns()) {
            if (col.key()) {
                restoreKeyNames.add(col.name());
            }
        }
        for (String name : pk) {
            int at = restoreKeyNames.indexOf(name);
            if (at < 0 || at >= r.identity().size()) {
                return true;
            }
            key.add(r.identity().get(at));
        }
        if (key.isEmpty()) {
            return true;
        }
        for (Change c : u.changes()) {
            if (c instanceof TruncateChange t && t.relations().contains(table)) {
                return true;
            }
            if (!(c instanceof RowChange rc) || !rc.relation().name().equals(table)) {
                continue;
            }
            for (Tuple t : new Tuple[] {rc.oldTuple(), rc.newTuple()}) {
                if (t == null) {
                    continue;
                }
                boolean same = true;
                for (int k = 0; k < pk.size() && same; k++) {
                    int at = rc.relation().indexOf(pk.get(k));
                    same = at < 0 || t.isUnchanged(at) || Objects.equals(t.text(at), key.get(k));
                }
                if (same) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Restores a set of rows: rows that go away are deleted first, then every target is written over its row in place
     * (inserted when the row is missing), so a local session waiting for one of these rows applies its change to the
     * restored version. When that meets a unique value another row of the set still holds (the rows swap values),
     * careful mode writes the set again by deleting every row first and inserting every target after.
     */
    private void writeRestores(ApplyUnit u, List<RestoreRow> rows) throws SQLException, Recheck {
        if (rows.isEmpty()) {
            return;
        }
        if (!careful) {
            writeRestoresInPlace(u, rows);
            return;
        }
        Savepoint sp = session.connection().setSavepoint();
        try {
            writeRestoresInPlace(u, rows);
            session.connection().releaseSavepoint(sp);
        } catch (SQLException e) {
            if (!SqlErrors.UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw e;
            }
            session.connection().rollback(sp);
            LOG.debug("GSN {}: restored rows swap unique values ({}); deleting them all, then inserting", u.gsn(),
                    SqlErrors.describe(e));
            writeRestoresReplacing(u, rows);
        }
    }

    /**
     * Rows that go away are deleted unless a target of the set is written over the same row (same match values: under
     * REPLICA IDENTITY FULL a row's identity is every column, so an UPDATE's rollback is "remove the new version,
     * bring back the old one" of one primary key); then the targets are written in place.
     */
    private void writeRestoresInPlace(ApplyUnit u, List<RestoreRow> rows) throws SQLException, Recheck {
        Set<List<Object>> writtenInPlace = new HashSet<>();
        for (RestoreRow r : rows) {
            BitSet match = session.matchColumns(r.relation());
            if (RowStatement.canRestoreInPlace(r, match)) {
                writtenInPlace.add(foundBy(r, match));
            }
        }
        List<RestoreRow> replaced = new ArrayList<>();
        for (RestoreRow r : rows) {
            BitSet match = session.matchColumns(r.relation());
            if (r.removes() && writtenInPlace.contains(foundBy(r, match))) {
                continue;
            }
            if (!RowStatement.canRestoreInPlace(r, match)) {
                add(u, RowStatement.restoreDelete(r, match), true);
                if (!r.removes()) {
                    replaced.add(r);
                }
            }
        }
        for (RestoreRow r : rows) {
            BitSet match = session.matchColumns(r.relation());
            if (RowStatement.canRestoreInPlace(r, match)) {
                add(u, RowStatement.restoreInPlace(r, match), true);
            }
        }
        for (RestoreRow r : replaced) {
            add(u, RowStatement.restoreInsert(r, session.matchColumns(r.relation())), true);
        }
    }

    /** The row a restore finds: its relation and match values. */
    private static List<Object> foundBy(RestoreRow r, BitSet match) {
        return List.of(r.relation().name(), RowStatement.restoreDelete(r, match).matchValues());
    }

    private void writeRestoresReplacing(ApplyUnit u, List<RestoreRow> rows) throws SQLException, Recheck {
        for (RestoreRow r : rows) {
            add(u, RowStatement.restoreDelete(r, session.matchColumns(r.relation())), true);
        }
        for (RestoreRow r : rows) {
            if (!r.removes()) {
                add(u, RowStatement.restoreInsert(r, session.matchColumns(r.relation())), true);
            }
        }
    }

    private void writeChange(ApplyUnit u, Change c) throws SQLException, Recheck {
        if (c instanceof RowChange raw) {
            RowChange rc = adapt(raw);
            if (rc != null) {
                add(u, RowStatement.of(rc, session.matchColumns(rc.relation())), false);
            }
        } else if (c instanceof TruncateChange t) {
            flush();
            truncate(t);
        } else if (DdlMessage.isDdl(c)) {
            flush();
            if (!u.local() && DdlRunner.run(session.connection(), DdlMessage.of((MessageChange) c))) {
                session.ranDdl();
            }
        } else if (c instanceof MessageChange m) {
            LOG.debug("GSN {}: logical message '{}' ignored by the applier", u.gsn(), m.prefix());
        }
    }

    /**
     * The change in the table's current shape (a change decoded before a column was dropped loses that column), under
     * the table's current name; null when a DDL statement of this node dropped the table (see {@link #relocate}).
     */
    private RowChange adapt(RowChange raw) throws SQLException {
        RowChange rc = relocate(raw);
        if (rc == null) {
            return null;
        }
        Set<String> existing = session.columnTypes(rc.relation().name()).keySet();
        return DdlRunner.adapt(renameColumns(raw.relation().name(), rc, existing), existing, session::droppedColumns);
    }

    /**
     * A change naming columns its table does not have: when a DDL statement of this node renamed them after the change
     * was written (the change was ordered before the statement, which ran here first), the change names them as they
     * are called now — as on the other nodes, which apply it and then rename them. Otherwise it is left as it is (a
     * dropped column is left out next, anything else fails loudly).
     *
     * @param written the table's name in the change as written (before {@link #relocate})
     */
    private RowChange renameColumns(RelationName written, RowChange rc, Set<String> existing) throws SQLException {
        Relation rel = rc.relation();
        int missing = 0;
        for (Column col : rel.columns()) {
            if (!existing.contains(col.name())) {
                missing++;
            }
        }
        if (missing == 0 || existing.isEmpty()) {
            return rc;
        }
        ApplyGuard guard = session.config().guard();
        Map<String, String> renames = columnRenames(guard, written, rel.name());
        if (renames.isEmpty() && missing > session.droppedColumns(rel.name())) {
            try {
                guard.awaitCaptureCaughtUp(session.config().retryWait()); // the statement may not be decoded yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while waiting for the capture", SqlErrors.QUERY_CANCELED, e);
            }
            renames = columnRenames(guard, written, rel.name());
        }
        if (renames.isEmpty()) {
            return rc;
        }
        List<Column> cols = new ArrayList<>(rel.columnCount());
        for (Column col : rel.columns()) {
            String now = renames.get(col.name());
            cols.add(existing.contains(col.name()) || now == null || !existing.contains(now) ? col
                    : new Column(now, col.key(), col.typeOid(), col.typeModifier()));
        }
        LOG.debug("change to {} applied under the column names {}: a DDL statement of this node renamed them after it",
                rel.name(), renames);
        return new RowChange(new Relation(rel.name(), rel.replicaIdentity(), cols), rc.op(), rc.newTuple(),
                rc.oldTuple(), rc.oldIsKeyOnly(), rc.keys());
    }

    /** Column renames of a local DDL under the change's table name as written and as it is now. */
    private static Map<String, String> columnRenames(ApplyGuard guard, RelationName written, RelationName now) {
        Map<String, String> renames = new HashMap<>(guard.localColumnRenames(written));
        if (!now.equals(written)) {
            guard.localColumnRenames(now).forEach(renames::putIfAbsent);
        }
        return renames;
    }

    /**
     * A change to a table this node does not have: when a DDL statement of this node renamed or dropped it after the
     * change was written (the change was ordered before the statement, which ran here first), the change goes to the
     * new name, or nowhere — as on the other nodes, which apply it and then the statement. Otherwise it is left as it
     * is, to fail loudly.
     */
    private RowChange relocate(RowChange raw) throws SQLException {
        RelationName table = raw.relation().name();
        if (!session.columnTypes(table).isEmpty()) {
            return raw;
        }
        ApplyGuard guard = session.config().guard();
        Optional<ApplyGuard.TableMove> move = guard.localMove(table);
        if (move.isEmpty()) {
            try {
                guard.awaitCaptureCaughtUp(session.config().retryWait()); // the statement may not be decoded yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while waiting for the capture", SqlErrors.QUERY_CANCELED, e);
            }
            move = guard.localMove(table);
        }
        if (move.isEmpty()) {
            return raw;
        }
        if (move.get().to().isEmpty()) {
            LOG.debug("change to {} not applied: a DDL statement of this node dropped the table after it", table);
            return null;
        }
        RelationName now = move.get().to().get();
        LOG.debug("change to {} applied to {}: a DDL statement of this node renamed it after it", table, now);
        Relation rel = raw.relation();
        return new RowChange(new Relation(now, rel.replicaIdentity(), rel.columns()), raw.op(), raw.newTuple(),
                raw.oldTuple(), raw.oldIsKeyOnly(), raw.keys());
    }

    /**
     * Takes FOR KEY SHARE locks on the parents the unit's rows REFERENCE: helpers run with
     * session_replication_role = replica, so foreign-key triggers do not lock them, and a local transaction must not
     * delete a parent under a winner that references it without waiting for the winner's commit.
     */
    private void lockParents(ApplyUnit u) throws SQLException {
        for (Key k : u.keys()) {
            if (k.kind() != KeyKind.REFERENCE || k.values().stream().anyMatch(v -> v == null || v.indexOf(0) >= 0)) {
                continue;
            }
            List<String> cols = session.indexColumns(k.relation(), k.index());
            if (cols.size() != k.values().size()) {
                LOG.debug("GSN {}: no index {} on {} to lock the referenced row {}", u.gsn(), k.index(), k.relation(),
                        k.values());
                continue;
            }
            PreparedStatement ps = session.statement(List.of("lock", k.relation(), k.index()), () -> "SELECT 1 FROM "
                    + k.relation().quoted() + " WHERE " + cols.stream().map(c -> RelationName.quoteIdent(c) + " = ?")
                    .collect(Collectors.joining(" AND ")) + " FOR KEY SHARE");
            for (int i = 0; i < cols.size(); i++) {
                ps.setObject(i + 1, k.values().get(i), Types.OTHER);
            }
            ps.executeQuery().close();
        }
    }

    private void truncate(TruncateChange t) throws SQLException {
        String sql = "TRUNCATE " + t.relations().stream().map(RelationName::quoted).collect(Collectors.joining(", "))
                + (t.restartIdentity() ? " RESTART IDENTITY" : "") + (t.cascade() ? " CASCADE" : "");
        try (Statement st = session.connection().createStatement()) {
            st.execute(sql);
        }
    }

    private void addConflict(ConflictRow r) throws SQLException {
        PreparedStatement ps = session.conflictInsert();
        ps.setLong(1, r.gsn());
        ps.setInt(2, r.changeIndex());
        ps.setString(3, r.kind());
        ps.setString(4, r.loserOrigin());
        ps.setLong(5, r.winnerGsn());
        ps.setString(6, r.winnerOrigin());
        ps.setString(7, r.relation());
        ps.setString(8, r.key());
        ps.setLong(9, r.causeGsn());
        ps.addBatch();
        conflictRows++;
    }

    private void add(ApplyUnit u, RowStatement row, boolean restore) throws SQLException, Recheck {
        if (LOG.isTraceEnabled()) {
            LOG.trace("GSN {}: {} {} key {}", u.gsn(), row.op(), row.relation(), row.identity());
        }
        if (careful) {
            executeOne(u, row, restore);
            return;
        }
        batcher.add(u, row, restore);
    }

    private void flush() throws SQLException, Recheck {
        if (batcher != null) {
            batcher.flush();
        }
    }

    private void executeOne(ApplyUnit u, RowStatement row, boolean restore) throws SQLException {
        PreparedStatement ps = session.statement(row.shape());
        row.bind(ps);
        if (row.op() == Op.INSERT && !restore) {
            insertUnderSavepoint(u, row, ps);
            return;
        }
        int count = ps.executeUpdate();
        if (count == 0 && !restore) {
            notFound(u, row, (row.op() == Op.UPDATE ? "an UPDATE" : "a DELETE") + " found no row");
        }
    }

    private void insertUnderSavepoint(ApplyUnit u, RowStatement row, PreparedStatement ps) throws SQLException {
        Savepoint sp = session.connection().setSavepoint();
        try {
            ps.executeUpdate();
            session.connection().releaseSavepoint(sp);
        } catch (SQLException e) {
            if (!SqlErrors.UNIQUE_VIOLATION.equals(e.getSQLState())) {
                throw e;
            }
            session.connection().rollback(sp);
            notFound(u, row, "an INSERT found the row already there (" + SqlErrors.describe(e) + ")");
        }
    }

    /** A row is missing or present where the group's order says otherwise: tolerated only for own pending rows. */
    private void notFound(ApplyUnit u, RowStatement row, String what) {
        if (pendingRows.isPendingRow(row.relation(), row.identity())) {
            LOG.warn("GSN {}: {} in {} key {}, a row this node changed and has not delivered yet; its own "
                    + "certification decides it", u.gsn(), what, row.relation(), row.identity());
            return;
        }
        String origin = u.gtid() != null ? u.gtid().origin().value() : "unknown";
        throw new DivergenceException(u.gsn(), origin, row.relation(), row.identity(), what);
    }
}
