package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.coordinator.apply.RestoreRow;
import io.chorus.coordinator.certify.KeyLookup;
import io.chorus.coordinator.certify.Verdict;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A remote winner processed by {@code onRemoteWinner} and not yet committed here: a local commit captured late may
 * still be concurrent with it. Keeps its verdict (what it writes), its applied keys (listed and hashed), the bases it
 * replaced and the rollbacks of its own transaction.
 */
final class KeptWinner {
    final Verdict verdict;
    final List<Key> keys;
    final KeyLookup applied;
    final WinnerUndo undo;
    /** The rollbacks returned for its own transaction. */
    private List<RestoreRow> restores = List.of();
    private Set<RestoreRow> restoreSet = Set.of();

    KeptWinner(Verdict verdict, List<Key> keys, KeyLookup applied, WinnerUndo undo) {
        this.verdict = verdict;
        this.keys = keys;
        this.applied = applied;
        this.undo = undo;
    }

    void restores(List<RestoreRow> own) {
        restores = own;
        restoreSet = new HashSet<>(own);
    }

    List<RestoreRow> restores() {
        return restores;
    }

    /** Whether its own transaction writes {@code r} (that row, that target). */
    boolean restores(RestoreRow r) {
        return restoreSet.contains(r);
    }

    Gsn gsn() {
        return verdict.gsn();
    }
}
