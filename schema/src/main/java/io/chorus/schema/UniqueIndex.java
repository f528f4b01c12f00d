package io.chorus.schema;

import java.util.List;
import java.util.Objects;

/**
 * A secondary unique index that Chorus certifies: unique, valid, neither partial nor on expressions, and not the
 * table's identity index. {@code columns} are the key columns in index order (INCLUDE columns excluded).
 */
public record UniqueIndex(String name, List<String> columns) {
    public UniqueIndex {
        Objects.requireNonNull(name, "name");
        columns = List.copyOf(columns);
        if (columns.isEmpty()) {
            throw new IllegalArgumentException("unique index " + name + " without columns");
        }
    }
}
