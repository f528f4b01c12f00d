package io.chorus.changeset;

import java.util.List;
import java.util.Objects;

/**
 * A certification key: a kind on an item. The item is (relation, index, values): {@code index} names the primary key
 * or unique index whose values identify the row ({@link #TABLE_INDEX} for a table-wide key, whose values are empty).
 * A TABLE key meets every item of its relation.
 */
public record Key(KeyKind kind, RelationName relation, String index, List<String> values) {
    public static final String TABLE_INDEX = "*";

    public Key {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(relation, "relation");
        Objects.requireNonNull(index, "index");
        values = List.copyOf(values);
        if ((kind == KeyKind.TABLE) != TABLE_INDEX.equals(index)) {
            throw new IllegalArgumentException("a TABLE key, and only a TABLE key, uses index '*': " + kind + " " + index);
        }
    }

    public static Key table(RelationName relation) {
        return new Key(KeyKind.TABLE, relation, TABLE_INDEX, List.of());
    }

    /** The item this key is on, without its kind. */
    public Item item() {
        return new Item(relation, index, values);
    }

    /** An item of the certification index: a row's identity under one index, or a whole table. */
    public record Item(RelationName relation, String index, List<String> values) {
        public boolean isTable() {
            return TABLE_INDEX.equals(index);
        }
    }

    @Override
    public String toString() {
        return kind + ":" + relation + (kind == KeyKind.TABLE ? "" : "/" + index + values);
    }
}
