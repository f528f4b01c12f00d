package io.chorus.coordinator.apply;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Column;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * One row write, ready to bind: INSERT INTO t(cols) VALUES (?...), UPDATE t SET cols WHERE match, or DELETE FROM t
 * WHERE match. The identity is the relation's key columns (as decoded); the match columns are those columns, or,
 * for a REPLICA IDENTITY FULL table (every column flagged as key), its primary key when it has one — so types without
 * an equality operator (json, point) and large values stay out of the WHERE clause. A NULL match value becomes
 * {@code IS NULL}. Unchanged-TOAST columns are never written. Every value is bound as text of unspecified type, so the
 * server takes each type from the target column. Immutable.
 */
final class RowStatement {
    /**
     * What decides the SQL text: statements of one shape share a prepared statement and a JDBC batch. An
     * {@code upsert} INSERT updates the row in place when one with its match values exists (a restore).
     */
    record Shape(Relation relation, Op op, BitSet written, BitSet match, BitSet nullMatch, boolean upsert) {
        Shape(Relation relation, Op op, BitSet written, BitSet match, BitSet nullMatch) {
            this(relation, op, written, match, nullMatch, false);
        }

        String sql() {
            List<Column> cols = relation.columns();
            String table = relation.name().quoted();
            return switch (op) {
                case INSERT -> "INSERT INTO " + table + " (" + join(cols, written, "", ", ") + ") VALUES ("
                        + String.join(", ", Collections.nCopies(written.cardinality(), "?")) + ")"
                        + (upsert ? onConflict(cols) : "");
                case UPDATE -> "UPDATE " + table + " SET " + setList(cols) + " WHERE " + where(cols);
                case DELETE -> "DELETE FROM " + table + " WHERE " + where(cols);
            };
        }

        /** ON CONFLICT on the match columns (a primary key or replica identity index): update every written column. */
        private String onConflict(List<Column> cols) {
            BitSet set = (BitSet) written.clone();
            set.andNot(match);
            StringBuilder sb = new StringBuilder(" ON CONFLICT (").append(join(cols, match, "", ", ")).append(") DO ");
            if (set.isEmpty()) {
                return sb.append("NOTHING").toString();
            }
            sb.append("UPDATE SET ");
            for (int i = set.nextSetBit(0), n = 0; i >= 0; i = set.nextSetBit(i + 1), n++) {
                String c = RelationName.quoteIdent(cols.get(i).name());
                sb.append(n == 0 ? "" : ", ").append(c).append(" = EXCLUDED.").append(c);
            }
            return sb.toString();
        }

        private String setList(List<Column> cols) {
            if (written.isEmpty()) {
                String first = RelationName.quoteIdent(cols.get(match.nextSetBit(0)).name());
                return first + " = " + first;
            }
            return join(cols, written, " = ?", ", ");
        }

        private String where(List<Column> cols) {
            StringBuilder sb = new StringBuilder();
            for (int i = match.nextSetBit(0); i >= 0; i = match.nextSetBit(i + 1)) {
                sb.append(sb.isEmpty() ? "" : " AND ").append(RelationName.quoteIdent(cols.get(i).name()))
                        .append(nullMatch.get(i) ? " IS NULL" : " = ?");
            }
            return sb.toString();
        }

        private static String join(List<Column> cols, BitSet which, String suffix, String sep) {
            StringBuilder sb = new StringBuilder();
            for (int i = which.nextSetBit(0); i >= 0; i = which.nextSetBit(i + 1)) {
                sb.append(sb.isEmpty() ? "" : sep).append(RelationName.quoteIdent(cols.get(i).name())).append(suffix);
            }
            return sb.toString();
        }
    }

    private final Shape shape;
    private final Tuple values;
    private final List<String> identity;
    private final List<String> matchValues;

    private RowStatement(Shape shape, Tuple values, List<String> identity, List<String> matchValues) {
        this.shape = shape;
        this.values = values;
        this.identity = identity;
        this.matchValues = matchValues;
    }

    /**
     * The statement that applies a decoded row change.
     *
     * @param match the columns that find the row (see {@link #matchColumns}); a subset of the key columns
     */
    static RowStatement of(RowChange c, BitSet match) {
        Relation rel = c.relation();
        if (c.op() == Op.INSERT) {
            return new RowStatement(new Shape(rel, Op.INSERT, written(c.newTuple()), match, new BitSet()), c.newTuple(),
                    identityOf(rel, c.newTuple()), List.of());
        }
        List<String> id = identityOf(rel, c.identityTuple());
        BitSet set = c.op() == Op.UPDATE ? written(c.newTuple()) : new BitSet();
        return matching(new Shape(rel, c.op(), set, match, new BitSet()), c.newTuple(), id);
    }

    /** Restore step one: remove the row with this identity, if any. */
    static RowStatement restoreDelete(RestoreRow r, BitSet match) {
        return matching(new Shape(r.relation(), Op.DELETE, new BitSet(), match, new BitSet()), null, r.identity());
    }

    /** Restore step two: insert the target version of the row. */
    static RowStatement restoreInsert(RestoreRow r, BitSet match) {
        return new RowStatement(new Shape(r.relation(), Op.INSERT, written(r.target()), match, new BitSet()),
                r.target(), r.identity(), List.of());
    }

    /**
     * A restore in one statement: the target version is inserted, or written over the row in place when it exists.
     * In place matters to local sessions: one whose UPDATE waits for the row's lock then applies its change to the
     * restored version, where a deleted and re-inserted row would make it skip the row (0 rows) as a concurrent delete.
     */
    static RowStatement restoreInPlace(RestoreRow r, BitSet match) {
        return new RowStatement(new Shape(r.relation(), Op.INSERT, written(r.target()), match, new BitSet(), true),
                r.target(), r.identity(), List.of());
    }

    /**
     * Whether {@link #restoreInPlace} can find the row: its match columns are a primary key or a replica identity
     * index (ON CONFLICT needs a unique index on exactly them), not every column of a REPLICA IDENTITY FULL table
     * without a primary key, and the target writes all of them.
     */
    static boolean canRestoreInPlace(RestoreRow r, BitSet match) {
        if (r.removes() || (r.relation().replicaIdentity() == 'f' && match.equals(keyColumns(r.relation())))) {
            return false;
        }
        BitSet missing = (BitSet) match.clone();
        missing.andNot(written(r.target()));
        return missing.isEmpty();
    }

    /** Picks the match values out of the identity (key columns in column order) and marks the NULL ones. */
    private static RowStatement matching(Shape draft, Tuple values, List<String> identity) {
        BitSet keys = keyColumns(draft.relation());
        List<String> match = new ArrayList<>(draft.match().cardinality());
        BitSet nulls = new BitSet();
        int n = 0;
        for (int i = keys.nextSetBit(0); i >= 0; i = keys.nextSetBit(i + 1), n++) {
            if (draft.match().get(i)) {
                String v = identity.get(n);
                if (v == null) {
                    nulls.set(i);
                } else {
                    match.add(v);
                }
            }
        }
        Shape shape = new Shape(draft.relation(), draft.op(), draft.written(), draft.match(), nulls, draft.upsert());
        return new RowStatement(shape, values, identity, match);
    }

    Shape shape() {
        return shape;
    }

    Op op() {
        return shape.op();
    }

    RelationName relation() {
        return shape.relation().name();
    }

    /** The key column values (null for SQL NULL), for divergence checks and messages. */
    List<String> identity() {
        return identity;
    }

    /** The values that find the row (NULL match columns excluded: the shape says IS NULL for them). */
    List<String> matchValues() {
        return matchValues;
    }

    /** The text this statement writes into column {@code i}; null when it writes NULL or does not write it. */
    String writtenText(int i) {
        return values == null || !shape.written().get(i) || values.isNull(i) ? null : values.text(i);
    }

    /** Whether this UPDATE gives the row other match values (a key update). */
    boolean movesKey() {
        if (shape.op() != Op.UPDATE) {
            return false;
        }
        BitSet match = shape.match();
        int n = 0;
        for (int i = match.nextSetBit(0); i >= 0; i = match.nextSetBit(i + 1)) {
            String old = shape.nullMatch().get(i) ? null : matchValues.get(n++);
            if (shape.written().get(i) && !Objects.equals(old, values.isNull(i) ? null : values.text(i))) {
                return true;
            }
        }
        return false;
    }

    void bind(PreparedStatement ps) throws SQLException {
        bind(ps, 1);
    }

    /** Binds the written values, then (UPDATE, DELETE) the match values, from parameter {@code first}. */
    int bind(PreparedStatement ps, int first) throws SQLException {
        int p = first;
        BitSet w = shape.written();
        for (int i = w.nextSetBit(0); i >= 0; i = w.nextSetBit(i + 1)) {
            p = bindText(ps, p, values.isNull(i) ? null : values.text(i));
        }
        for (String v : matchValues) {
            p = bindText(ps, p, v);
        }
        return p;
    }

    private static int bindText(PreparedStatement ps, int index, String text) throws SQLException {
        if (text == null) {
            ps.setNull(index, Types.OTHER);
        } else {
            ps.setObject(index, text, Types.OTHER);
        }
        return index + 1;
    }

    private static BitSet written(Tuple t) {
        BitSet b = new BitSet(t.size());
        for (int i = 0; i < t.size(); i++) {
            if (!t.isUnchanged(i)) {
                b.set(i);
            }
        }
        return b;
    }

    private static List<String> identityOf(Relation rel, Tuple t) {
        BitSet keys = keyColumns(rel);
        List<String> id = new ArrayList<>(keys.cardinality());
        for (int i = keys.nextSetBit(0); i >= 0; i = keys.nextSetBit(i + 1)) {
            if (t.isUnchanged(i)) {
                throw new ChorusException("cannot identify a row of " + rel.name() + ": key column "
                        + rel.columns().get(i).name() + " arrived as unchanged TOAST without an old key; give the "
                        + "table REPLICA IDENTITY FULL or a key without TOASTed values", null, false);
            }
            id.add(t.text(i));
        }
        return Collections.unmodifiableList(id);
    }

    /**
     * The columns that find a row: the key columns, or for a relation whose every column is a key column (REPLICA
     * IDENTITY FULL) the {@code primaryKey} columns when given and all present.
     */
    static BitSet matchColumns(Relation rel, List<String> primaryKey) {
        BitSet keys = keyColumns(rel);
        if (primaryKey.isEmpty() || keys.cardinality() < rel.columnCount()) {
            return keys;
        }
        BitSet pk = new BitSet();
        for (String name : primaryKey) {
            int i = rel.indexOf(name);
            if (i < 0) {
                return keys;
            }
            pk.set(i);
        }
        return pk;
    }

    static BitSet keyColumns(Relation rel) {
        BitSet b = new BitSet(rel.columnCount());
        for (int i = 0; i < rel.columnCount(); i++) {
            if (rel.columns().get(i).key()) {
                b.set(i);
            }
        }
        if (b.isEmpty()) {
            throw new ChorusException("cannot apply a change to " + rel.name() + ": the table has no primary key or "
                    + "replica identity; add a primary key (or REPLICA IDENTITY FULL) on every node", null, false);
        }
        return b;
    }
}
