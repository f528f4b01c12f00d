package io.chorus.coordinator.pending;

import io.chorus.changeset.Change;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.coordinator.certify.CauseIndex;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The uncommitted winners (LateLedger) in GSN order, with their applied keys by item and the rows they write, so a
 * late commit meets only the winners that clash with it or write its rows, however many are kept. Winners are added
 * in GSN order and leave oldest first (committed) or newest first (taken back). Not thread-safe.
 */
final class KeptWinners {
    private final TreeMap<Gsn, KeptWinner> byGsn = new TreeMap<>();
    private final CauseIndex keys = new CauseIndex();
    /** Per row a winner writes (any step of its winning changes): those winners, in GSN order. */
    private final Map<RowId, Deque<KeptWinner>> writers = new HashMap<>();
    private final Map<RelationName, Deque<KeptWinner>> truncaters = new HashMap<>();
    private final Visits visits;

    KeptWinners(Visits visits) {
        this.visits = visits;
    }

    /** Keeps {@code w}, whose GSN is above every kept winner's. */
    void add(KeptWinner w) {
        if (!byGsn.isEmpty() && !w.gsn().isAfter(byGsn.lastKey())) {
            throw new IllegalStateException("winner GSN " + w.gsn() + " kept after GSN " + byGsn.lastKey()
                    + ": remote winners must be processed in GSN order");
        }
        byGsn.put(w.gsn(), w);
        keys.add(w.keys, w.gsn());
        rowsOf(w, writers, truncaters, true);
    }

    /** Forgets {@code w}, the oldest or the newest kept winner. */
    void remove(KeptWinner w) {
        byGsn.remove(w.gsn());
        keys.remove(w.keys, w.gsn());
        rowsOf(w, writers, truncaters, false);
    }

    boolean isEmpty() {
        return byGsn.isEmpty();
    }

    KeptWinner oldest() {
        return byGsn.isEmpty() ? null : byGsn.firstEntry().getValue();
    }

    KeptWinner newest() {
        return byGsn.isEmpty() ? null : byGsn.lastEntry().getValue();
    }

    /** The kept winner at {@code g}, or null. */
    KeptWinner at(Gsn g) {
        return byGsn.get(g);
    }

    /** The kept winners with a GSN in {@code [first, last]}, in GSN order. */
    Collection<KeptWinner> between(Gsn first, Gsn last) {
        return first.isAfter(last) ? Set.of() : byGsn.subMap(first, true, last, true).values();
    }

    boolean anyAfter(Gsn deps) {
        return !byGsn.isEmpty() && byGsn.lastKey().isAfter(deps);
    }

    /** The lowest GSN above {@code deps} of a kept winner whose applied keys clash with one of {@code probe}. */
    Gsn lowestClashAbove(List<Key> probe, Gsn deps) {
        return keys.lowestClashAbove(probe, deps);
    }

    /**
     * The kept winners with a GSN above {@code after} (at or above it when {@code inclusive}) that write one of
     * {@code rows} or truncate its relation, in GSN order.
     */
    Collection<KeptWinner> writing(Collection<RowId> rows, Gsn after, boolean inclusive) {
        TreeMap<Gsn, KeptWinner> out = new TreeMap<>();
        Set<RelationName> relations = new HashSet<>();
        for (RowId row : rows) {
            collect(writers.get(row), after, inclusive, out);
            if (relations.add(row.relation())) {
                collect(truncaters.get(row.relation()), after, inclusive, out);
            }
        }
        return out.values();
    }

    private void collect(Deque<KeptWinner> ws, Gsn after, boolean inclusive, Map<Gsn, KeptWinner> out) {
        for (Iterator<KeptWinner> it = ws == null ? null : ws.descendingIterator(); it != null && it.hasNext(); ) {
            KeptWinner w = it.next();
            visits.add(1);
            if (w.gsn().isBefore(after) || !inclusive && w.gsn().equals(after)) {
                break;
            }
            out.put(w.gsn(), w);
        }
    }

    /** Adds the winner to, or takes it from, the lists of the rows it writes and the relations it truncates. */
    private static void rowsOf(KeptWinner w, Map<RowId, Deque<KeptWinner>> writers,
                               Map<RelationName, Deque<KeptWinner>> truncaters, boolean in) {
        for (Change c : w.verdict.winningChanges()) {
            if (c instanceof RowChange rc) {
                for (RowStep step : RowStep.of(rc)) {
                    listed(writers, step.row(), w, in);
                }
            } else if (c instanceof TruncateChange tc) {
                tc.relations().forEach(r -> listed(truncaters, r, w, in));
            }
        }
    }

    private static <K> void listed(Map<K, Deque<KeptWinner>> lists, K key, KeptWinner w, boolean in) {
        Deque<KeptWinner> ws = lists.get(key);
        if (in) {
            ws = ws == null ? lists.computeIfAbsent(key, k -> new ArrayDeque<>()) : ws;
            if (ws.peekLast() != w) {
                ws.addLast(w);
            }
            return;
        }
        if (ws == null) {
            return;
        }
        if (ws.peekFirst() == w) {
            ws.pollFirst();
        } else if (ws.peekLast() == w) {
            ws.pollLast();
        }
        if (ws.isEmpty()) {
            lists.remove(key);
        }
    }
}
