package io.chorus.schema;

import io.chorus.changeset.RelationName;

import java.util.List;
import java.util.Objects;

/**
 * A foreign key of a child table, as certification sees it: its REFERENCE keys are on the item
 * (parent, parentIndex, values of {@code columns}).
 *
 * @param columns       the child's columns, paired one to one with {@code parentColumns}
 * @param parentIndex   {@link KeyDeriver#IDENTITY_INDEX} ("pkey") when the referenced index is the parent's identity
 *                      (its primary key or replica identity index), else the name of the parent's unique index
 * @param parentColumns the referenced columns in the order of the parent index, so the REFERENCE key's values line
 *                      up with the parent's own WRITE and DELETE keys on that index
 */
public record ForeignKey(String name, List<String> columns, RelationName parent, String parentIndex,
                         List<String> parentColumns) {
    public ForeignKey {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(parent, "parent");
        Objects.requireNonNull(parentIndex, "parentIndex");
        columns = List.copyOf(columns);
        parentColumns = List.copyOf(parentColumns);
        if (columns.isEmpty() || columns.size() != parentColumns.size()) {
            throw new IllegalArgumentException("foreign key " + name + " pairs " + columns + " with " + parentColumns);
        }
    }
}
