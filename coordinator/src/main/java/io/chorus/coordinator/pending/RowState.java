package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Relation;
import java.util.ArrayList;
import java.util.List;

/** A row touched by pending changes: the group's version (base) and the pending versions in commit order. */
final class RowState {
    Relation relation;
    RowImage base;
    /** The winner deletes the row in the transaction that dooms it, so the rollback was not written. */
    boolean leftToWinner;
    final List<Version> chain = new ArrayList<>();
    /** The GSN of the own delivery that last left the chain empty while winners were uncommitted (LateLedger). */
    Gsn retiredUntil = Gsn.NONE;

    RowState(RowImage base) {
        this.base = base;
    }

    /** The row as the database holds it: the newest live pending version, else the base. */
    RowImage current() {
        for (int i = chain.size() - 1; i >= 0; i--) {
            if (!chain.get(i).doomed()) {
                return chain.get(i).after;
            }
        }
        return base;
    }

    boolean newestDoomed() {
        return !chain.isEmpty() && chain.get(chain.size() - 1).doomed();
    }
}
