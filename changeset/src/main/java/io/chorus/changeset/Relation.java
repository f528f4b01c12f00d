package io.chorus.changeset;

import java.util.List;
import java.util.Objects;

/**
 * A table as it was when the origin decoded a change to it: its name, replica identity and columns.
 *
 * @param replicaIdentity PostgreSQL's relreplident: 'd' default (primary key), 'f' full, 'i' index, 'n' nothing
 */
public record Relation(RelationName name, char replicaIdentity, List<Column> columns) {
    public Relation {
        Objects.requireNonNull(name, "name");
        columns = List.copyOf(columns);
    }

    public int columnCount() {
        return columns.size();
    }

    public int indexOf(String column) {
        for (int i = 0; i < columns.size(); i++) {
            if (columns.get(i).name().equals(column)) {
                return i;
            }
        }
        return -1;
    }

    public boolean hasKeyColumns() {
        return columns.stream().anyMatch(Column::key);
    }
}
