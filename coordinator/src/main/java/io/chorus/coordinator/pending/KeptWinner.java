package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.coordinator.certify.KeyLookup;
import io.chorus.coordinator.certify.Verdict;

/**
 * A remote winner processed by {@code onRemoteWinner} and not yet committed here: a local commit captured late may
 * still be concurrent with it. Keeps its verdict (what it writes), its applied keys and the bases it replaced.
 */
final class KeptWinner {
    final Verdict verdict;
    final KeyLookup applied;
    final WinnerUndo undo;

    KeptWinner(Verdict verdict, KeyLookup applied, WinnerUndo undo) {
        this.verdict = verdict;
        this.applied = applied;
        this.undo = undo;
    }

    Gsn gsn() {
        return verdict.gsn();
    }
}
