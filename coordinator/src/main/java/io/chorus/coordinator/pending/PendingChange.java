package io.chorus.coordinator.pending;

import io.chorus.changeset.Change;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.coordinator.certify.LostChange;
import java.util.ArrayList;
import java.util.List;

/** One certified change of a pending changeset; doomed once its doom cause is set ({@link #doom}). */
final class PendingChange implements LostChange {
    final PendingSet owner;
    final int index;
    final Change change;
    final List<Key> keys;
    final List<Version> versions = new ArrayList<>();
    private Gsn doomCause;

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

    /** The GSN of the winner that dooms it, or null while it is not doomed. */
    Gsn doomCause() {
        return doomCause;
    }

    /**
     * Dooms it with {@code cause}, or undooms it (null); keeps its set's count of doomed changes, its rows' counts and
     * the tracker's index in step.
     */
    void doom(Gsn cause) {
        Gsn before = doomCause;
        if ((before == null) != (cause == null)) {
            owner.doomedChanges += cause == null ? -1 : 1;
        }
        doomCause = cause;
        for (Version v : versions) {
            v.state.recount(v, before, cause);
        }
        if (owner.index != null) {
            owner.index.recount(this, before, cause);
        }
    }
}
