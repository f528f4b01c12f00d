package io.chorus.changeset;

import java.util.Objects;

/**
 * One column of a relation as the origin decoded it. {@code key} marks the columns of the replica identity (the
 * primary key by default). The type is informative: helpers let the server infer each parameter's type from the
 * target column, so type OIDs never need to match across nodes.
 */
public record Column(String name, boolean key, int typeOid, int typeModifier) {
    public Column {
        Objects.requireNonNull(name, "name");
    }
}
