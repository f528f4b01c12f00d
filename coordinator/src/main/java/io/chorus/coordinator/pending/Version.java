package io.chorus.coordinator.pending;

/** The row as one pending change left it. */
final class Version {
    final PendingChange owner;
    final RowId row;
    final RowImage after;

    Version(PendingChange owner, RowId row, RowImage after) {
        this.owner = owner;
        this.row = row;
        this.after = after;
    }

    boolean doomed() {
        return owner.doomCause() != null;
    }
}
