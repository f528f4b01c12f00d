package io.chorus.coordinator.pending;

import io.chorus.changeset.ChangeSet;
import java.util.ArrayList;
import java.util.List;

/** One pending local changeset. */
final class PendingSet {
    final ChangeSet cs;
    final List<PendingChange> changes = new ArrayList<>();

    PendingSet(ChangeSet cs) {
        this.cs = cs;
    }
}
