package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Relation;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * A row touched by pending changes: the group's version (base) and the pending versions in commit order. It counts
 * its live versions and keeps its doomed ones by cause (kept in step by {@link PendingChange#doom}), so the row as the
 * database holds it and the versions a winner had not doomed yet are found without walking a long chain of a hot
 * row.
 */
final class RowState {
    Relation relation;
    RowImage base;
    /** The winner deletes the row in the transaction that dooms it, so the rollback was not written. */
    boolean leftToWinner;
    /** Pending versions in commit order; change it only through {@link #add} and {@link #remove}. */
    final List<Version> chain = new ArrayList<>();
    /** The GSN of the own delivery that last left the chain empty while winners were uncommitted (LateLedger). */
    Gsn retiredUntil = Gsn.NONE;
    private int live;
    private final TreeMap<Gsn, Set<Version>> doomedByCause = new TreeMap<>();

    RowState(RowImage base) {
        this.base = base;
    }

    void add(Version v) {
        chain.add(v);
        enter(v, v.owner.doomCause());
    }

    /** Takes a delivered version out: the oldest pending versions of a row are the ones delivered first. */
    void remove(Version v) {
        chain.remove(v);
        leave(v, v.owner.doomCause());
    }

    /** Its owner's doom cause went from {@code before} to {@code after} (null: live). */
    void recount(Version v, Gsn before, Gsn after) {
        leave(v, before);
        enter(v, after);
    }

    private void enter(Version v, Gsn cause) {
        if (cause == null) {
            live++;
        } else {
            doomedByCause.computeIfAbsent(cause, g -> Collections.newSetFromMap(new IdentityHashMap<>())).add(v);
        }
    }

    private void leave(Version v, Gsn cause) {
        if (cause == null) {
            live--;
            return;
        }
        Set<Version> same = doomedByCause.get(cause);
        same.remove(v);
        if (same.isEmpty()) {
            doomedByCause.remove(cause);
        }
    }

    /** The versions doomed with a cause above {@code g} (a copy: the caller may undoom them). */
    List<Version> doomedAfter(Gsn g) {
        List<Version> out = new ArrayList<>();
        doomedByCause.tailMap(g, false).values().forEach(out::addAll);
        return out;
    }

    /** The row as the database holds it: the newest live pending version, else the base. */
    RowImage current() {
        for (int i = chain.size() - 1; live > 0 && i >= 0; i--) {
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
