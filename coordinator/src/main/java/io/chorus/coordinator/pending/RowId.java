package io.chorus.coordinator.pending;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.Tuple;
import java.util.ArrayList;
import java.util.List;

/** A row's identity: its relation and the text values of the relation's key columns, in column order. */
record RowId(RelationName relation, List<String> identity) {
    RowId {
        identity = List.copyOf(identity);
    }

    /** The identity of {@code tuple}, a tuple of {@code rel}. */
    static RowId of(Relation rel, Tuple tuple) {
        if (!rel.hasKeyColumns()) {
            throw new ChorusException("relation " + rel.name() + " has no key columns in its decoded description: "
                    + "the pending-row tracker cannot identify its rows; give the table a primary key");
        }
        List<String> values = new ArrayList<>();
        for (int i = 0; i < rel.columnCount(); i++) {
            if (rel.columns().get(i).key()) {
                if (tuple.isUnchanged(i)) {
                    throw new ChorusException("key column " + rel.columns().get(i).name() + " of " + rel.name()
                            + " arrived as unchanged TOAST: cannot identify the row; keep key columns small");
                }
                values.add(tuple.text(i));
            }
        }
        return new RowId(rel.name(), values);
    }
}
