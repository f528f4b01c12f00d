package io.chorus.changeset;

import java.util.Objects;

/** A table's schema-qualified name, as it is on every node of a group. */
public record RelationName(String schema, String table) implements Comparable<RelationName> {
    public RelationName {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(table, "table");
        if (schema.isEmpty() || table.isEmpty()) {
            throw new IllegalArgumentException("empty schema or table name: '" + schema + "'.'" + table + "'");
        }
    }

    public static RelationName of(String schema, String table) {
        return new RelationName(schema, table);
    }

    /** The name quoted for SQL: {@code "schema"."table"}. */
    public String quoted() {
        return quoteIdent(schema) + "." + quoteIdent(table);
    }

    public static String quoteIdent(String ident) {
        return '"' + ident.replace("\"", "\"\"") + '"';
    }

    @Override
    public int compareTo(RelationName o) {
        int c = schema.compareTo(o.schema);
        return c != 0 ? c : table.compareTo(o.table);
    }

    @Override
    public String toString() {
        return schema + "." + table;
    }
}
