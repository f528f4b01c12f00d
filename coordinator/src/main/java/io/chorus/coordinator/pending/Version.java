package io.chorus.coordinator.pending;

/** The row as one pending change left it. */
final class Version {
    final PendingChange owner;
    final RowId row;
    final RowState state;
    final RowImage after;
    /** Its place in its row's chain, set when the row takes it ({@link RowState#add}). */
    long ord;

    Version(PendingChange owner, RowId row, RowState state, RowImage after) {
        this.owner = owner;
        this.row = row;
        this.state = state;
        this.after = after;
    }

    boolean doomed() {
        return owner.doomCause() != null;
    }
}
