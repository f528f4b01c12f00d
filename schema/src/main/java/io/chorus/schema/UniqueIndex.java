package io.chorus.schema;

import java.util.List;
import java.util.Objects;

/**
 * A secondary unique index that Chorus certifies: unique, valid, neither partial nor on expressions, and not the
 * table's identity index. {@code columns} are the key columns in index order (INCLUDE columns excluded).
 *
 * @param nullsNotDistinct the index was made with NULLS NOT DISTINCT (PostgreSQL 15+): NULLs collide, so a NULL
 *                         value takes part in its key as {@link KeyDeriver#NULL_VALUE} instead of skipping the key
 */
public record UniqueIndex(String name, List<String> columns, boolean nullsNotDistinct) {
    /** An ordinary unique index, where NULLs never collide. */
    public UniqueIndex(String name, List<String> columns) {
        this(name, columns, false);
    }

    public UniqueIndex {
        Objects.requireNonNull(name, "name");
        columns = List.copyOf(columns);
        if (columns.isEmpty()) {
            throw new IllegalArgumentException("unique index " + name + " without columns");
        }
    }
}
