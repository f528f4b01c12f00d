package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Relation;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * A row touched by pending changes: the group's version (base) and the pending versions in commit order. It keeps its
 * live versions in order and its doomed ones by cause (in step with {@link PendingChange#doom}), so the row as the
 * database holds it and the versions a winner had not doomed yet are found without walking the long chain of a hot
 * row; the oldest version, the one delivered next, leaves from the head of the chain.
 */
final class RowState {
    Relation relation;
    RowImage base;
    /** The winner deletes the row in the transaction that dooms it, so the rollback was not written. */
    boolean leftToWinner;
    /** Pending versions in commit order. */
    private final Deque<Version> chain = new ArrayDeque<>();
    /** The GSN of the own delivery that last left the chain empty while winners were uncommitted (LateLedger). */
    Gsn retiredUntil = Gsn.NONE;
    /** The live versions by their order in the chain. */
    private final TreeMap<Long, Version> live = new TreeMap<>();
    private long added;
    private final TreeMap<Gsn, Set<Version>> doomedByCause = new TreeMap<>();

    RowState(RowImage base) {
        this.base = base;
    }

    void add(Version v) {
        v.ord = ++added;
        chain.addLast(v);
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
            live.put(v.ord, v);
        } else {
            doomedByCause.computeIfAbsent(cause, g -> Collections.newSetFromMap(new IdentityHashMap<>())).add(v);
        }
    }

    private void leave(Version v, Gsn cause) {
        if (cause == null) {
            live.remove(v.ord);
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
        return live.isEmpty() ? base : live.lastEntry().getValue().after;
    }

    boolean newestDoomed() {
        return !chain.isEmpty() && chain.peekLast().doomed();
    }

    /** Whether no pending version is left. */
    boolean isEmpty() {
        return chain.isEmpty();
    }
}
