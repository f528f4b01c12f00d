package io.chorus.coordinator.apply;

import io.chorus.changeset.Column;
import io.chorus.changeset.Op;
import io.chorus.changeset.RelationName;
import java.sql.BatchUpdateException;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Batched mode of the row writer: collects consecutive rows of one statement shape and sends them in as few round
 * trips as possible. INSERTs go as one JDBC batch (the driver rewrites it into multi-row INSERTs). UPDATEs and DELETEs
 * of distinct rows go as multi-row statements joined to a VALUES list ({@code UPDATE t SET c = v.c FROM (VALUES
 * ...) v WHERE t.k = v.k}), in chunks of {@link #CHUNKS} rows, each value cast to its column's type; a chunk that
 * affects fewer rows than it carries means a missing row, and the caller re-runs in careful mode to find it. A row
 * whose match values repeat within a group starts a new group, so one statement never touches a row twice, and an
 * UPDATE that changes a row's key goes alone.
 *
 * <p>Not thread-safe: used by one helper thread within one transaction.
 */
final class RowBatcher {
    private static final int[] CHUNKS = {64, 16, 4};

    private record Entry(ApplyUnit unit, RowStatement row, boolean restore) {
    }

    private record ChunkKey(RowStatement.Shape shape, int rows) {
    }

    private final HelperSession session;
    private final List<Entry> pending = new ArrayList<>();
    private final Set<List<String>> identities = new HashSet<>();
    private RowStatement.Shape shape;
    private boolean hasRestore;

    RowBatcher(HelperSession session) {
        this.session = session;
    }

    void add(ApplyUnit u, RowStatement row, boolean restore) throws SQLException, RowWriter.Recheck {
        // an upsert (a restore in place) must not meet its row twice in one multi-row INSERT either
        boolean findsRow = row.op() != Op.INSERT || row.shape().upsert();
        List<String> id = row.op() == Op.INSERT ? row.identity() : row.matchValues();
        boolean repeats = findsRow && identities.contains(id);
        boolean movesKey = row.movesKey();
        if (repeats || movesKey || !row.shape().equals(shape)) {
            flush();
            shape = row.shape();
        }
        if (findsRow) {
            identities.add(id);
        }
        hasRestore |= restore;
        pending.add(new Entry(u, row, restore));
        if (movesKey) {
            flush(); // a row that changes its key goes alone: later rows may look for it under its new key
        }
    }

    void flush() throws SQLException, RowWriter.Recheck {
        if (pending.isEmpty()) {
            return;
        }
        try {
            int done = multiRowEligible() ? flushChunks() : 0;
            flushSingle(done);
        } catch (BatchUpdateException e) {
            SQLException cause = e.getNextException() != null ? e.getNextException() : e;
            if (SqlErrors.isRetriable(cause)) {
                throw cause;
            }
            throw new RowWriter.Recheck(SqlErrors.describe(cause), cause);
        } finally {
            pending.clear();
            identities.clear();
            hasRestore = false;
        }
    }

    private boolean multiRowEligible() {
        return shape.op() != Op.INSERT && !hasRestore && shape.nullMatch().isEmpty() && pending.size() >= CHUNKS[2]
                && (shape.op() == Op.DELETE || !shape.written().isEmpty());
    }

    /** Sends the leading rows as multi-row statements; returns how many rows were sent. */
    private int flushChunks() throws SQLException, RowWriter.Recheck {
        Map<String, String> types = session.columnTypes(shape.relation().name());
        String sqlTemplate = types.isEmpty() ? null : valuesStatement(1, types);
        if (sqlTemplate == null) {
            return 0;
        }
        int done = 0;
        for (int size : CHUNKS) {
            int chunks = (pending.size() - done) / size;
            if (chunks == 0) {
                continue;
            }
            PreparedStatement ps = session.statement(new ChunkKey(shape, size), () -> valuesStatement(size, types));
            for (int c = 0; c < chunks; c++) {
                int p = 1;
                for (int i = 0; i < size; i++) {
                    p = pending.get(done + c * size + i).row().bind(ps, p);
                }
                ps.addBatch();
            }
            int[] counts = ps.executeBatch();
            for (int c = 0; c < counts.length; c++) {
                if (counts[c] >= 0 && counts[c] != size) {
                    Entry first = pending.get(done + c * size);
                    throw new RowWriter.Recheck(shape.op() + " of " + size + " rows of " + first.row().relation()
                            + " from GSN " + first.unit().gsn() + " affected " + counts[c], null);
                }
            }
            done += chunks * size;
        }
        return done;
    }

    /** Sends the rows from {@code from} on as one JDBC batch of single-row statements. */
    private void flushSingle(int from) throws SQLException, RowWriter.Recheck {
        if (from >= pending.size()) {
            return;
        }
        PreparedStatement ps = session.statement(shape);
        for (int i = from; i < pending.size(); i++) {
            pending.get(i).row().bind(ps);
            ps.addBatch();
        }
        int[] counts = ps.executeBatch();
        for (int i = 0; i < counts.length; i++) {
            Entry en = pending.get(from + i);
            if (counts[i] == 0 && !en.restore() && en.row().op() != Op.INSERT) {
                throw new RowWriter.Recheck(en.row().op() + " of " + en.row().relation() + " key "
                        + en.row().identity() + " at GSN " + en.unit().gsn() + " affected no row", null);
            }
        }
    }

    /**
     * {@code UPDATE t AS chorus_t SET c = chorus_v.s0 ... FROM (VALUES (?::type, ...), ...) AS chorus_v(s0, ..., k0,
     * ...) WHERE chorus_t.k = chorus_v.k0 ...}, or the DELETE ... USING form; null when a column's type is unknown.
     */
    private String valuesStatement(int rows, Map<String, String> types) {
        List<Column> cols = shape.relation().columns();
        BitSet keys = shape.match();
        List<String> casts = new ArrayList<>();
        List<String> aliases = new ArrayList<>();
        StringBuilder set = new StringBuilder();
        StringBuilder where = new StringBuilder();
        BitSet w = shape.written();
        for (int i = w.nextSetBit(0); i >= 0; i = w.nextSetBit(i + 1)) {
            String alias = "s" + aliases.size();
            set.append(set.isEmpty() ? "" : ", ").append(quote(cols.get(i))).append(" = chorus_v.").append(alias);
            aliases.add(alias);
            casts.add(types.get(cols.get(i).name()));
        }
        for (int i = keys.nextSetBit(0); i >= 0; i = keys.nextSetBit(i + 1)) {
            String alias = "k" + aliases.size();
            where.append(where.isEmpty() ? "" : " AND ").append("chorus_t.").append(quote(cols.get(i)))
                    .append(" = chorus_v.").append(alias);
            aliases.add(alias);
            casts.add(types.get(cols.get(i).name()));
        }
        if (casts.contains(null)) {
            return null;
        }
        StringBuilder values = new StringBuilder();
        for (int r = 0; r < rows; r++) {
            values.append(r == 0 ? "(" : ", (");
            for (int c = 0; c < casts.size(); c++) {
                values.append(c == 0 ? "" : ", ").append("?::").append(casts.get(c));
            }
            values.append(')');
        }
        String v = "(VALUES " + values + ") AS chorus_v(" + String.join(", ", aliases) + ")";
        String table = shape.relation().name().quoted() + " AS chorus_t";
        return shape.op() == Op.UPDATE ? "UPDATE " + table + " SET " + set + " FROM " + v + " WHERE " + where
                : "DELETE FROM " + table + " USING " + v + " WHERE " + where;
    }

    private static String quote(Column c) {
        return RelationName.quoteIdent(c.name());
    }
}
