package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.coordinator.apply.RestoreRow;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;

/**
 * What the tracker keeps so that a local commit captured late (after remote winners it is concurrent with were
 * processed, before they committed here) can still be doomed exactly as if it had been known in time: the uncommitted
 * winners ({@link KeptWinners}), rows whose last pending version went away while winners were still uncommitted, and
 * the rollbacks recorded for uncommitted winners (the losses of own changesets already delivered, for R2, are in the
 * {@link PendingIndex}). Everything up to a GSN is forgotten once that GSN is committed here. Not thread-safe.
 */
final class LateLedger {
    /** A row state whose chain emptied at an own delivery; kept while an earlier winner may still be uncommitted. */
    private record Retired(RowId row, RowState state, Gsn until) {
    }

    private final KeptWinners winners;
    private final TreeMap<Gsn, Map<RowId, RestoreRow>> restores = new TreeMap<>();
    /**
     * GSNs with rollbacks recorded since the last take that covered them, each with the rows among them that go back
     * to "absent". A take returns those even when it returned the same target before (or when the winner's own
     * rollback writes it): a DELETE that finds no row locks nothing, so the late commit may have inserted the row
     * after the transaction's DELETE ran; the transaction must run again and delete it. A rollback to a present
     * version locks the row (in place) or its key (inserted), so a late commit on it cannot follow it.
     */
    private final TreeMap<Gsn, Set<RowId>> fresh = new TreeMap<>();
    /** Per first GSN of a transaction: the rows already returned for it, with their targets. */
    private final TreeMap<Gsn, Map<RowId, RestoreRow>> returned = new TreeMap<>();
    private final ArrayDeque<Retired> retired = new ArrayDeque<>();
    private Gsn committed = Gsn.NONE;
    private final Visits visits;

    LateLedger(Visits visits) {
        this.visits = visits;
        this.winners = new KeptWinners(visits);
    }

    void keep(KeptWinner w) {
        winners.add(w);
    }

    /** Forgets the newest kept winner if it is the one {@code undo} belongs to (it was taken back). */
    void forget(WinnerUndo undo) {
        KeptWinner newest = winners.newest();
        if (newest != null && newest.undo == undo) {
            winners.remove(newest);
        }
    }

    /** Whether any processed winner is not yet committed. */
    boolean holdsWinners() {
        return !winners.isEmpty();
    }

    /** Whether a kept winner has a GSN above {@code deps}. */
    boolean anyAfter(Gsn deps) {
        return winners.anyAfter(deps);
    }

    /** The lowest GSN above {@code deps} of a kept winner that one of {@code keys} clashes with, or null. */
    Gsn lowestClashAbove(List<Key> keys, Gsn deps) {
        return winners.lowestClashAbove(keys, deps);
    }

    /** The kept winners above {@code deps} that write one of {@code rows} (or truncate its relation), in GSN order. */
    Collection<KeptWinner> writingAfter(Collection<RowId> rows, Gsn deps) {
        return winners.writing(rows, deps, false);
    }

    /** The kept winner at {@code g}, or null. */
    KeptWinner at(Gsn g) {
        return winners.at(g);
    }

    /**
     * The row's base as it was before the winner at {@code g} (and every later kept winner) replaced it: only a winner
     * that writes the row (or truncates its relation) replaces its base.
     */
    RowImage baseBefore(RowId row, RowState st, Gsn g) {
        for (KeptWinner w : winners.writing(List.of(row), g, true)) {
            if (w.undo.bases.containsKey(st)) {
                return w.undo.bases.get(st);
            }
        }
        return st.base;
    }

    Gsn committed() {
        return committed;
    }

    void retire(RowId row, RowState st, Gsn until) {
        st.retiredUntil = until; // a row retired again is kept until its latest retirement's GSN
        retired.addLast(new Retired(row, st, until));
    }

    /**
     * Records rollbacks for the transaction of {@code winner}, replacing older ones of the same rows for it. A rollback
     * the winner's own restores already write, to the same target, is not recorded: written early it could meet a
     * version an earlier winner's own restores bring back.
     */
    void record(KeptWinner winner, List<RestoreRow> rows) {
        Map<RowId, RestoreRow> here = restores.computeIfAbsent(winner.gsn(), g -> new LinkedHashMap<>());
        for (RestoreRow r : rows) {
            boolean own = winner.restores(r);
            if (own) {
                here.remove(id(r));
            } else {
                here.put(id(r), r);
            }
            if (!own || r.removes()) {
                Set<RowId> again = fresh.computeIfAbsent(winner.gsn(), g -> new HashSet<>());
                if (r.removes()) {
                    again.add(id(r)); // "absent" locks nothing where the row is missing: a local INSERT can follow
                }
            }
        }
        if (here.isEmpty()) {
            restores.remove(winner.gsn());
        }
    }

    private static RowId id(RestoreRow r) {
        return new RowId(r.relation().name(), r.identity());
    }

    /**
     * Returns the rollbacks recorded for GSNs in {@code [first, last]} that were not yet returned for a transaction
     * starting at {@code first} with the same target, and the rows recorded since the last take that go back to
     * "absent" even with the same target (empty when nothing was recorded since). They are written in
     * one group before the first of those GSNs, together with the own rollbacks of the winners from {@code first} up
     * to the highest GSN recorded (written again in their place, to the same target), so rows rolled back together
     * can swap unique values. A row with several takes the one of the highest GSN (the most rolled back), a late one
     * before the winner's own at the same GSN.
     */
    List<RestoreRow> take(Gsn first, Gsn last) {
        if (first.isAfter(last) || fresh.subMap(first, true, last, true).isEmpty()) {
            return List.of();
        }
        NavigableMap<Gsn, Set<RowId>> freshNow = fresh.subMap(first, true, last, true);
        Set<RowId> rewrite = new HashSet<>();
        freshNow.values().forEach(rewrite::addAll);
        freshNow.clear();
        NavigableMap<Gsn, Map<RowId, RestoreRow>> range = restores.subMap(first, true, last, true);
        // every winner of the transaction, not only up to the highest GSN recorded: a late rollback's target can
        // already undo a change doomed by a later winner, and that winner's own rollbacks may free the unique value
        // it takes back (seed 1044788802: p1 back to u=1 while p2 held u=1 until GSN 2's own rollback)
        Gsn highest = last;
        Map<RowId, RestoreRow> merged = new LinkedHashMap<>();
        for (KeptWinner w : winners.between(first, highest)) {
            visits.add(1 + w.restores().size());
            w.restores().forEach(r -> merged.put(id(r), r));
            merged.putAll(range.getOrDefault(w.gsn(), Map.of()));
        }
        range.values().forEach(m -> m.forEach(merged::putIfAbsent));
        Map<RowId, RestoreRow> before = returned.computeIfAbsent(first, g -> new LinkedHashMap<>());
        List<RestoreRow> out = new ArrayList<>();
        merged.forEach((row, r) -> {
            if (!r.equals(before.put(row, r)) || rewrite.contains(row)) {
                out.add(r);
            }
        });
        return out;
    }

    /**
     * GSNs up to {@code upTo} are committed: forgets their winners and the retired rows they kept.
     *
     * @throws IllegalStateException when a rollback recorded for such a GSN was never taken (it was not written)
     */
    void committed(Gsn upTo, Map<RowId, RowState> rows) {
        if (!fresh.headMap(upTo, true).isEmpty()) {
            Gsn g = fresh.firstKey();
            Set<RowId> untaken = new HashSet<>(fresh.get(g));
            untaken.addAll(restores.getOrDefault(g, Map.of()).keySet());
            throw new IllegalStateException("GSN " + g + " committed without the rollback of local rows "
                    + untaken.stream().map(r -> r.relation() + "" + r.identity()).toList() + " recorded for it (a local commit doomed by it was captured late): the "
                    + "applier must take late restores before it commits; this node's data no longer matches the "
                    + "group: stop applying and rejoin by full transfer");
        }
        committed = Gsn.max(committed, upTo);
        restores.headMap(upTo, true).clear();
        returned.headMap(upTo, true).clear();
        while (!winners.isEmpty() && !winners.oldest().gsn().isAfter(upTo)) {
            winners.remove(winners.oldest());
        }
        for (Iterator<Retired> it = retired.iterator(); it.hasNext(); ) {
            Retired r = it.next();
            if (r.until().isAfter(upTo)) {
                break;
            }
            it.remove();
            // an earlier retirement of a row that pending versions took up and left again must not drop it: the base
            // is still needed by late commits until the latest retirement's GSN (and the rollbacks before it) commit
            if (rows.get(r.row()) == r.state() && r.state().isEmpty()
                    && !r.state().retiredUntil.isAfter(upTo)) {
                rows.remove(r.row());
            }
        }
    }
}
