package io.chorus.coordinator.certify;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.RelationName;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The certification index: the keys that applied changes put on items, above the purge horizon. Entries arrive in
 * GSN order, so every deque below is sorted by GSN and purging pops fronts. A row key is probed by its item and by
 * the TABLE keys of its relation; a TABLE key is probed against every entry of its relation. Most items carry one
 * entry: the item map holds that entry itself and a deque only from the second (under a backlog the index holds
 * every key of hundreds of thousands of changesets, and an empty deque per item was a third of its memory).
 *
 * <p>Not thread-safe (owned by the certifier).
 */
final class CertIndex {
    /** One applied key: who put it there and with which operation. */
    record Entry(long gsn, NodeId origin, Key key, String op) {
    }

    /** A clash found in the index: the loser's key and the winning entry. */
    record Hit(Key loserKey, Entry winner) {
    }

    private final Deque<Entry> all = new ArrayDeque<>();
    /** An {@link Entry}, or a {@code Deque<Entry>} of two or more. */
    private final Map<Key.Item, Object> byItem = new HashMap<>();
    private final Map<RelationName, Deque<Entry>> byRelation = new HashMap<>();
    private final Map<RelationName, Deque<Entry>> tableKeys = new HashMap<>();

    void add(long gsn, NodeId origin, Key key, String op) {
        Entry e = new Entry(gsn, origin, key, op);
        all.addLast(e);
        byRelation.computeIfAbsent(key.relation(), r -> new ArrayDeque<>()).addLast(e);
        if (key.kind() == KeyKind.TABLE) {
            tableKeys.computeIfAbsent(key.relation(), r -> new ArrayDeque<>()).addLast(e);
        } else {
            byItem.merge(key.item(), e, CertIndex::append);
        }
    }

    /**
     * The earliest clash of any of {@code keys} with an entry of another origin than {@code origin} above
     * {@code deps}; ties (same GSN) go to the first key, then the first entry. Null when none.
     */
    Hit earliestClash(List<Key> keys, NodeId origin, Gsn deps) {
        Hit best = null;
        for (Key k : keys) {
            if (k.kind() == KeyKind.TABLE) {
                best = earlier(best, scan(byRelation.get(k.relation()), k, origin, deps.value()));
            } else {
                best = earlier(best, scanItem(byItem.get(k.item()), k, origin, deps.value()));
                best = earlier(best, scan(tableKeys.get(k.relation()), k, origin, deps.value()));
            }
        }
        return best;
    }

    private static Hit earlier(Hit a, Hit b) {
        if (a == null) {
            return b;
        }
        return b != null && b.winner().gsn() < a.winner().gsn() ? b : a;
    }

    @SuppressWarnings("unchecked")
    private static Object append(Object present, Object added) {
        Deque<Entry> d;
        if (present instanceof Entry first) {
            d = new ArrayDeque<>(4);
            d.addLast(first);
        } else {
            d = (Deque<Entry>) present;
        }
        d.addLast((Entry) added);
        return d;
    }

    @SuppressWarnings("unchecked")
    private static Hit scanItem(Object entries, Key k, NodeId origin, long deps) {
        if (entries instanceof Entry e) {
            return e.gsn() > deps && !e.origin().equals(origin) && CertRules.clashes(k, e.key()) ? new Hit(k, e) : null;
        }
        return scan((Deque<Entry>) entries, k, origin, deps);
    }

    private static Hit scan(Deque<Entry> entries, Key k, NodeId origin, long deps) {
        if (entries == null) {
            return null;
        }
        Hit found = null;
        Iterator<Entry> it = entries.descendingIterator();
        while (it.hasNext()) {
            Entry e = it.next();
            if (e.gsn() <= deps) {
                break;
            }
            if (!e.origin().equals(origin) && CertRules.clashes(k, e.key())) {
                if (found == null || e.gsn() <= found.winner().gsn()) {
                    found = new Hit(k, e);
                }
            }
        }
        return found;
    }

    /** Drops every entry at or below {@code horizon}; returns how many were dropped. */
    int purgeThrough(long horizon) {
        int n = 0;
        while (!all.isEmpty() && all.peekFirst().gsn() <= horizon) {
            Entry e = all.pollFirst();
            popFront(byRelation, e.key().relation(), e);
            if (e.key().kind() == KeyKind.TABLE) {
                popFront(tableKeys, e.key().relation(), e);
            } else {
                popItem(e);
            }
            n++;
        }
        return n;
    }

    private static <K> void popFront(Map<K, Deque<Entry>> map, K k, Entry e) {
        Deque<Entry> d = map.get(k);
        if (d == null || d.peekFirst() != e) {
            throw outOfOrder(e);
        }
        d.pollFirst();
        if (d.isEmpty()) {
            map.remove(k);
        }
    }

    @SuppressWarnings("unchecked")
    private void popItem(Entry e) {
        Key.Item item = e.key().item();
        Object present = byItem.get(item);
        if (present == e) {
            byItem.remove(item);
            return;
        }
        if (!(present instanceof Deque<?>) || ((Deque<Entry>) present).peekFirst() != e) {
            throw outOfOrder(e);
        }
        Deque<Entry> d = (Deque<Entry>) present;
        d.pollFirst();
        if (d.size() == 1) {
            byItem.put(item, d.peekFirst());
        }
    }

    private static IllegalStateException outOfOrder(Entry e) {
        return new IllegalStateException("certification index out of order at GSN " + e.gsn() + " for " + e.key()
                + ": entries must be added in GSN order");
    }

    int size() {
        return all.size();
    }
}
