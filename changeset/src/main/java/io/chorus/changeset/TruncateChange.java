package io.chorus.changeset;

import java.util.List;

/** TRUNCATE of one or more tables in one statement. */
public record TruncateChange(List<RelationName> relations, boolean cascade, boolean restartIdentity) implements Change {
    public TruncateChange {
        relations = List.copyOf(relations);
    }
}
