package io.chorus.coordinator.pending;

import io.chorus.changeset.Change;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.coordinator.certify.LostChange;
import java.util.ArrayList;
import java.util.List;

/** One certified change of a pending changeset; doomed once {@code doomCause} is set. */
final class PendingChange implements LostChange {
    final PendingSet owner;
    final int index;
    final Change change;
    final List<Key> keys;
    final List<Version> versions = new ArrayList<>();
    Gsn doomCause;

    PendingChange(PendingSet owner, int index, Change change, List<Key> keys) {
        this.owner = owner;
        this.index = index;
        this.change = change;
        this.keys = keys;
    }

    @Override
    public List<Key> keys() {
        return keys;
    }

    @Override
    public Gsn cause() {
        return doomCause;
    }
}
