package io.chorus.changeset;

/**
 * The kind of a certification key (DESIGN §3). Two keys on the same item clash when one is DELETE or TABLE, or one
 * is REFERENCE and the other DELETE, or both are WRITE. REFERENCE does not clash with WRITE or REFERENCE.
 */
public enum KeyKind {
    WRITE, DELETE, REFERENCE, TABLE;

    /** Whether a key of this kind clashes with a key of {@code other} kind on the same item. */
    public boolean clashesWith(KeyKind other) {
        if (this == TABLE || other == TABLE) {
            return true;
        }
        if (this == DELETE || other == DELETE) {
            return true;
        }
        return this == WRITE && other == WRITE;
    }
}
