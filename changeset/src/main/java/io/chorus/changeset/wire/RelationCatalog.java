package io.chorus.changeset.wire;

/**
 * The relation versions a receiver can resolve by id alone: the group's catalog of versions already committed in its
 * log (below the record being encoded or decoded). A version id is content-addressed ({@link RelationVersion}), so
 * the same definition has the same id on every node and a catalog never has to agree on numbering.
 *
 * <p>Implementations are thread-safe and only grow: once present, an id stays and keeps its bytes.
 */
@FunctionalInterface
public interface RelationCatalog {
    /** Knows no version: every relation a frame references is defined in the frame itself. */
    RelationCatalog NONE = id -> null;

    /** The canonical definition bytes of version {@code id}, or null when this catalog does not hold it. */
    byte[] definition(long id);
}
