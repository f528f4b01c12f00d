package io.chorus.schema;

import io.chorus.changeset.RelationName;

import java.util.List;
import java.util.Objects;

/**
 * What certification needs to know about one table, read from the catalog (DESIGN §3 "Keys").
 *
 * @param replicaIdentity        PostgreSQL's relreplident: 'd' default, 'f' full, 'i' index, 'n' nothing
 * @param identityColumns        the columns that identify a row: the replica identity index's with 'i', else the
 *                               primary key's (in index order); empty when the table has no usable identity
 * @param uniqueIndexes          secondary unique indexes, by name
 * @param foreignKeys            this table's foreign keys (it is the child), by name
 * @param referencedByForeignKey whether some foreign key references this table (it is a parent)
 */
public record TableInfo(RelationName name, char replicaIdentity, List<String> identityColumns,
                        List<UniqueIndex> uniqueIndexes, List<ForeignKey> foreignKeys, boolean referencedByForeignKey) {
    public TableInfo {
        Objects.requireNonNull(name, "name");
        identityColumns = List.copyOf(identityColumns);
        uniqueIndexes = List.copyOf(uniqueIndexes);
        foreignKeys = List.copyOf(foreignKeys);
    }

    /** Whether the table has a key Chorus accepts: a primary key or a replica identity index. */
    public boolean hasIdentity() {
        return !identityColumns.isEmpty();
    }

    /**
     * Whether certification needs old rows of this table (DESIGN §3): it has a secondary unique index or takes part in
     * a foreign key, on either side.
     */
    public boolean needsFullIdentity() {
        return !uniqueIndexes.isEmpty() || !foreignKeys.isEmpty() || referencedByForeignKey;
    }
}
