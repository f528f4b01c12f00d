package io.chorus.schema;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;

import java.util.ArrayList;
import java.util.List;

/**
 * Derives a row change's certification keys from its tuples and its table's catalog entry (DESIGN §3 "Keys", model
 * rule R1). Pure and thread-safe.
 *
 * <ul>
 * <li>INSERT: WRITE on the row's identity, WRITE on each unique index (skipped when a value is NULL,
 *     unless the index is NULLS NOT DISTINCT), REFERENCE on
 *     each foreign key whose values are all non-null.</li>
 * <li>UPDATE: WRITE on the new identity, and DELETE on the old one when it changed; WRITE on each unique index with
 *     the new values, and DELETE on the old values when they changed (the release key); REFERENCE on each non-null
 *     foreign key of the new row, changed or not, and REFERENCE on the old parent when the foreign key changed.</li>
 * <li>DELETE: DELETE on the identity and on each unique index, from the old row; REFERENCE on the parent of each
 *     non-null foreign key of the old row (a release key: if the delete loses with its transaction, the child comes
 *     back, so a later delete of that parent by the same node must lose too, R2).</li>
 * <li>TRUNCATE: a TABLE key per table ({@link #keys(TruncateChange)}).</li>
 * </ul>
 *
 * The row's identity item is always named {@link #IDENTITY_INDEX}, whatever its index is called, so a child's
 * REFERENCE meets the parent's own keys. Values are the columns' text forms in index order. An unchanged TOAST value
 * in the new row is taken from the old row when the old row carries it.
 */
public final class KeyDeriver {
    /** The index name of every row's identity item. */
    public static final String IDENTITY_INDEX = "pkey";
    /**
     * A NULL in a key of a NULLS NOT DISTINCT unique index. PostgreSQL text never holds a NUL character, so this never
     * equals a real value.
     */
    public static final String NULL_VALUE = "\u0000";

    private KeyDeriver() {
    }

    /**
     * The keys of {@code rc}.
     *
     * @throws ChorusException when the change lacks a value the keys need: the table has no identity, or its old row
     *                         is missing where unique indexes or foreign keys need it (REPLICA IDENTITY not FULL)
     */
    public static List<Key> keys(RowChange rc, TableInfo table) {
        if (!table.hasIdentity()) {
            throw new ChorusException("table " + table.name() + " has no primary key or replica identity index, so its"
                    + " rows cannot be certified: ALTER TABLE " + table.name().quoted() + " ADD PRIMARY KEY (...)");
        }
        Rows rows = new Rows(rc, table);
        List<Key> keys = new ArrayList<>();
        if (rc.op() == Op.DELETE) {
            rows.deleteKeys(keys);
        } else {
            rows.writeKeys(keys);
        }
        return keys;
    }

    /** One TABLE key per truncated table. */
    public static List<Key> keys(TruncateChange truncate) {
        return truncate.relations().stream().map(Key::table).toList();
    }

    /** The tuples of one change, resolved against its relation's column order. */
    private static final class Rows {
        private final RowChange rc;
        private final TableInfo table;
        private final RelationName name;

        Rows(RowChange rc, TableInfo table) {
            this.rc = rc;
            this.table = table;
            this.name = table.name();
        }

        void writeKeys(List<Key> keys) {
            boolean update = rc.op() == Op.UPDATE;
            List<String> newId = required(newValues(table.identityColumns()), "identity");
            keys.add(new Key(KeyKind.WRITE, name, IDENTITY_INDEX, newId));
            if (update && rc.oldTuple() != null) {
                List<String> oldId = required(oldValues(table.identityColumns()), "old identity");
                if (!oldId.equals(newId)) {
                    keys.add(new Key(KeyKind.DELETE, name, IDENTITY_INDEX, oldId));
                }
            }
            for (UniqueIndex u : table.uniqueIndexes()) {
                List<String> now = values(rc.newTuple(), rc.oldTuple(), u);
                if (now != null) {
                    keys.add(new Key(KeyKind.WRITE, name, u.name(), now));
                }
                List<String> before = update ? values(needOldRow("unique index " + u.name()), null, u) : null;
                if (before != null && !before.equals(now)) {
                    keys.add(new Key(KeyKind.DELETE, name, u.name(), before));
                }
            }
            for (ForeignKey fk : table.foreignKeys()) {
                List<String> now = newValues(fk.columns());
                if (now != null) {
                    keys.add(new Key(KeyKind.REFERENCE, fk.parent(), fk.parentIndex(), now));
                }
                List<String> before = update ? values(needOldRow("foreign key " + fk.name()), null, fk.columns()) : null;
                if (before != null && !before.equals(now)) {
                    keys.add(new Key(KeyKind.REFERENCE, fk.parent(), fk.parentIndex(), before));
                }
            }
        }

        void deleteKeys(List<Key> keys) {
            keys.add(new Key(KeyKind.DELETE, name, IDENTITY_INDEX,
                    required(oldValues(table.identityColumns()), "old identity")));
            for (UniqueIndex u : table.uniqueIndexes()) {
                List<String> before = values(needOldRow("unique index " + u.name()), null, u);
                if (before != null) {
                    keys.add(new Key(KeyKind.DELETE, name, u.name(), before));
                }
            }
            for (ForeignKey fk : table.foreignKeys()) {
                List<String> parent = values(needOldRow("foreign key " + fk.name()), null, fk.columns());
                if (parent != null) {
                    keys.add(new Key(KeyKind.REFERENCE, fk.parent(), fk.parentIndex(), parent));
                }
            }
        }

        /** The full old row; a key-only or missing one cannot give unique or foreign-key values. */
        private Tuple needOldRow(String what) {
            if (rc.oldTuple() == null || rc.oldIsKeyOnly()) {
                throw new ChorusException(rc.op() + " of table " + name + " carries "
                        + (rc.oldTuple() == null ? "no old row" : "only the old key") + ", but its " + what
                        + " needs the old values: the table's REPLICA IDENTITY is not FULL; run ALTER TABLE "
                        + name.quoted() + " REPLICA IDENTITY FULL (enabling replication does this for every table with"
                        + " a unique index or a foreign key)");
            }
            return rc.oldTuple();
        }

        private List<String> newValues(List<String> columns) {
            return values(rc.newTuple(), rc.oldTuple(), columns);
        }

        private List<String> oldValues(List<String> columns) {
            return values(rc.oldTuple(), null, columns);
        }

        private List<String> values(Tuple tuple, Tuple fallback, UniqueIndex index) {
            return values(tuple, fallback, index.columns(), index.nullsNotDistinct());
        }

        private List<String> values(Tuple tuple, Tuple fallback, List<String> columns) {
            return values(tuple, fallback, columns, false);
        }

        /**
         * The columns' texts, or null when one is NULL (unless {@code nullIsValue}: then NULL is {@link #NULL_VALUE}). Unchanged TOAST comes from {@code fallback}, the old row, when it
         * has the column: always for a full old row, only for identity columns for a key-only one.
         */
        private List<String> values(Tuple tuple, Tuple fallback, List<String> columns, boolean nullIsValue) {
            Relation relation = rc.relation();
            List<String> values = new ArrayList<>(columns.size());
            for (String column : columns) {
                int i = relation.indexOf(column);
                if (i < 0 || i >= tuple.size()) {
                    throw new ChorusException("change to " + name + " has no column " + column + " (it has "
                            + relation.columns().size() + " columns): the catalog and the decoded relation differ;"
                            + " invalidate the catalog after DDL");
                }
                Tuple source = tuple.isUnchanged(i) && carries(fallback, i, column) ? fallback : tuple;
                if (source.isUnchanged(i)) {
                    throw new ChorusException(rc.op() + " of " + name + " leaves key column " + column
                            + " as unchanged TOAST with no old value to take it from: set REPLICA IDENTITY FULL on "
                            + name.quoted());
                }
                if (source.isNull(i) && !nullIsValue) {
                    return null;
                }
                values.add(source.isNull(i) ? NULL_VALUE : source.text(i));
            }
            return values;
        }

        private boolean carries(Tuple fallback, int i, String column) {
            return fallback != null && i < fallback.size()
                    && (!rc.oldIsKeyOnly() || table.identityColumns().contains(column));
        }

        private List<String> required(List<String> values, String what) {
            if (values == null) {
                throw new ChorusException(rc.op() + " of " + name + " has a NULL in its " + what + " columns "
                        + table.identityColumns() + ": an identity column must be NOT NULL");
            }
            return values;
        }
    }
}
