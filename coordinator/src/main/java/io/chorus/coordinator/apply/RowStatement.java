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

/**
 * One row write, ready to bind: INSERT INTO t(cols) VALUES (?...), UPDATE t SET cols WHERE identity, or DELETE FROM t
 * WHERE identity. Identity columns are the relation's key columns; a NULL identity value becomes {@code IS NULL}.
 * Unchanged-TOAST columns are never written. Every value is bound as text of unspecified type, so the server takes
 * each type from the target column. Immutable.
 */
final class RowStatement {
    /** What decides the SQL text: statements of one shape share a prepared statement and a JDBC batch. */
    record Shape(Relation relation, Op op, BitSet written, BitSet nullKeys) {
        String sql() {
            List<Column> cols = relation.columns();
            String table = relation.name().quoted();
            return switch (op) {
                case INSERT -> "INSERT INTO " + table + " (" + join(cols, written, "", ", ") + ") VALUES ("
                        + String.join(", ", Collections.nCopies(written.cardinality(), "?")) + ")";
                case UPDATE -> "UPDATE " + table + " SET " + setList(cols) + " WHERE " + where(cols);
                case DELETE -> "DELETE FROM " + table + " WHERE " + where(cols);
            };
        }

        private String setList(List<Column> cols) {
            if (written.isEmpty()) {
                String first = RelationName.quoteIdent(cols.get(keyColumns(relation).nextSetBit(0)).name());
                return first + " = " + first;
            }
            return join(cols, written, " = ?", ", ");
        }

        private String where(List<Column> cols) {
            StringBuilder sb = new StringBuilder();
            BitSet keys = keyColumns(relation);
            for (int i = keys.nextSetBit(0); i >= 0; i = keys.nextSetBit(i + 1)) {
                sb.append(sb.isEmpty() ? "" : " AND ").append(RelationName.quoteIdent(cols.get(i).name()))
                        .append(nullKeys.get(i) ? " IS NULL" : " = ?");
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

    private RowStatement(Shape shape, Tuple values, List<String> identity) {
        this.shape = shape;
        this.values = values;
        this.identity = identity;
    }

    /** The statement that applies a decoded row change. */
    static RowStatement of(RowChange c) {
        Relation rel = c.relation();
        if (c.op() == Op.INSERT) {
            return new RowStatement(new Shape(rel, Op.INSERT, written(c.newTuple()), new BitSet()), c.newTuple(),
                    identityOf(rel, c.newTuple()));
        }
        List<String> id = identityOf(rel, c.identityTuple());
        BitSet set = c.op() == Op.UPDATE ? written(c.newTuple()) : new BitSet();
        return new RowStatement(new Shape(rel, c.op(), set, nullKeys(id, rel)), c.newTuple(), id);
    }

    /** Restore step one: remove the row with this identity, if any. */
    static RowStatement restoreDelete(RestoreRow r) {
        return new RowStatement(new Shape(r.relation(), Op.DELETE, new BitSet(), new BitSet()), null, r.identity());
    }

    /** Restore step two: insert the target version of the row. */
    static RowStatement restoreInsert(RestoreRow r) {
        return new RowStatement(new Shape(r.relation(), Op.INSERT, written(r.target()), new BitSet()), r.target(),
                r.identity());
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

    void bind(PreparedStatement ps) throws SQLException {
        bind(ps, 1);
    }

    /** Binds the written values, then (UPDATE, DELETE) the identity, from parameter {@code first}; returns the next. */
    int bind(PreparedStatement ps, int first) throws SQLException {
        int p = first;
        BitSet w = shape.written();
        for (int i = w.nextSetBit(0); i >= 0; i = w.nextSetBit(i + 1)) {
            p = bindText(ps, p, values.isNull(i) ? null : values.text(i));
        }
        if (shape.op() != Op.INSERT) {
            for (String v : identity) {
                if (v != null) {
                    p = bindText(ps, p, v);
                }
            }
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

    private static BitSet nullKeys(List<String> identity, Relation rel) {
        BitSet keys = keyColumns(rel);
        BitSet nulls = new BitSet();
        int n = 0;
        for (int i = keys.nextSetBit(0); i >= 0; i = keys.nextSetBit(i + 1), n++) {
            if (identity.get(n) == null) {
                nulls.set(i);
            }
        }
        return nulls;
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
