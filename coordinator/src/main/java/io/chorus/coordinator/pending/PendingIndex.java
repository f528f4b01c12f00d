package io.chorus.coordinator.pending;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.RelationName;
import io.chorus.coordinator.certify.CauseIndex;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiPredicate;
import java.util.function.Consumer;

/**
 * This origin's changes by key, so a winner visits only the pending changesets it may doom and a late commit finds
 * the losses it depends on (R2) without a scan of the pending changesets:
 * <ul>
 *   <li>the live (not doomed) pending changes with keys, by item and key kind, by relation, and those with a TABLE
 *       key by relation;</li>
 *   <li>the lost ones with their causes ({@link #lost}): the doomed pending changes, and the doomed changes of own
 *       changesets already delivered until their cause commits — what R2 asks about a late commit.</li>
 * </ul>
 * {@link PendingChange#doom} keeps it in step. Not thread-safe.
 */
final class PendingIndex {
    private final Map<Key.Item, Map<KeyKind, Set<PendingChange>>> liveByItem = new HashMap<>();
    private final Map<RelationName, Set<PendingChange>> liveByRelation = new HashMap<>();
    private final Map<RelationName, Set<PendingChange>> liveTableKeyed = new HashMap<>();
    /** Doomed pending changes and delivered losses whose cause has not committed, with their causes. */
    final CauseIndex lost = new CauseIndex();
    private final TreeMap<Gsn, List<PendingChange>> deliveredLosses = new TreeMap<>();

    /** A new pending change (live). */
    void added(PendingChange pc) {
        live(pc, true);
    }

    /** Its changeset was delivered: a live change leaves, a doomed one stays lost until its cause commits. */
    void delivered(PendingChange pc) {
        if (pc.doomCause() == null) {
            live(pc, false);
        } else if (!pc.keys.isEmpty()) {
            deliveredLosses.computeIfAbsent(pc.doomCause(), g -> new ArrayList<>()).add(pc);
        }
    }

    /** Every GSN up to {@code upTo} committed: the delivered losses they caused can no longer matter to R2. */
    void committed(Gsn upTo, Visits visits) {
        Map<Gsn, List<PendingChange>> done = deliveredLosses.headMap(upTo, true);
        done.forEach((cause, changes) -> {
            visits.add(changes.size());
            changes.forEach(pc -> lost.remove(pc.keys, cause));
        });
        done.clear();
    }

    /** A pending change's doom cause went from {@code before} to {@code after} (null: live). */
    void recount(PendingChange pc, Gsn before, Gsn after) {
        if (before != null) {
            lost.remove(pc.keys, before);
        }
        if (after != null) {
            lost.add(pc.keys, after);
        }
        if ((before == null) != (after == null)) {
            live(pc, after == null);
        }
    }

    /**
     * Hands {@code out} the live changes with a key that meets {@code k} where {@code rule.test(theirKey, k)} holds
     * (the rule must depend only on the kinds of two meeting keys, as {@link io.chorus.coordinator.certify.CertRules}'
     * do; a TABLE key passes both of them with any key it meets). A bucket already in {@code seen} is not handed out
     * again: within one winner's doom the buckets only shrink, and a later visit asks for a subset of an earlier one.
     */
    void liveMeeting(Key k, BiPredicate<Key, Key> rule, Set<Object> seen, Consumer<PendingChange> out) {
        if (k.kind() == KeyKind.TABLE) {
            visit(liveByRelation.get(k.relation()), seen, out);
            return;
        }
        for (Map.Entry<KeyKind, Set<PendingChange>> e : liveByItem.getOrDefault(k.item(), Map.of()).entrySet()) {
            if (rule.test(new Key(e.getKey(), k.relation(), k.index(), k.values()), k)) {
                visit(e.getValue(), seen, out);
            }
        }
        visit(liveTableKeyed.get(k.relation()), seen, out);
    }

    static Set<Object> seenSet() {
        return Collections.newSetFromMap(new IdentityHashMap<>());
    }

    private static void visit(Set<PendingChange> bucket, Set<Object> seen, Consumer<PendingChange> out) {
        if (bucket != null && seen.add(bucket)) {
            bucket.forEach(out);
        }
    }

    private void live(PendingChange pc, boolean in) {
        for (Key k : pc.keys) {
            if (k.kind() == KeyKind.TABLE) {
                update(liveTableKeyed, k.relation(), pc, in);
            } else {
                Map<KeyKind, Set<PendingChange>> kinds = liveByItem.computeIfAbsent(k.item(),
                        i -> new EnumMap<>(KeyKind.class));
                update(kinds, k.kind(), pc, in);
                if (kinds.isEmpty()) {
                    liveByItem.remove(k.item());
                }
            }
            update(liveByRelation, k.relation(), pc, in);
        }
    }

    private static <K> void update(Map<K, Set<PendingChange>> buckets, K key, PendingChange pc, boolean in) {
        if (in) {
            buckets.computeIfAbsent(key, x -> Collections.newSetFromMap(new IdentityHashMap<>())).add(pc);
            return;
        }
        Set<PendingChange> bucket = buckets.get(key);
        if (bucket != null) {
            bucket.remove(pc);
            if (bucket.isEmpty()) {
                buckets.remove(key);
            }
        }
    }
}
