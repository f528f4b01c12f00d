package io.chorus.coordinator.certify;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.RelationName;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiPredicate;

/**
 * Keys, each with a GSN (a winner's applied keys with its GSN, a lost change's keys with its cause), hashed by item
 * and kind with their GSNs sorted, so the two questions {@link CertRules} answers by scanning cost a few lookups per
 * probed key: the lowest GSN above deps among the keys a probe clashes with (the first winner that beats it) and among
 * the keys it depends on by R2 (the cause it inherits). Both rules hold or fail for every key of one kind on one item
 * alike, so one probe per kind decides for all of them. A multiset: a key added twice with one GSN is removed twice.
 * Not thread-safe.
 */
public final class CauseIndex {
    private final Map<Key.Item, Map<KeyKind, TreeMap<Gsn, Integer>>> byItem = new HashMap<>();
    /** Every key of a relation (TABLE keys included) by kind: what a TABLE probe meets, and the TABLE keys alone. */
    private final Map<RelationName, Map<KeyKind, TreeMap<Gsn, Integer>>> byRelation = new HashMap<>();

    public void add(List<Key> keys, Gsn gsn) {
        for (Key k : keys) {
            if (k.kind() != KeyKind.TABLE) {
                count(byItem.computeIfAbsent(k.item(), i -> new EnumMap<>(KeyKind.class)), k.kind(), gsn, 1);
            }
            count(byRelation.computeIfAbsent(k.relation(), r -> new EnumMap<>(KeyKind.class)), k.kind(), gsn, 1);
        }
    }

    /** Removes keys added with {@code gsn}; keys not present are ignored. */
    public void remove(List<Key> keys, Gsn gsn) {
        for (Key k : keys) {
            if (k.kind() != KeyKind.TABLE && uncount(byItem.get(k.item()), k.kind(), gsn)) {
                byItem.remove(k.item());
            }
            if (uncount(byRelation.get(k.relation()), k.kind(), gsn)) {
                byRelation.remove(k.relation());
            }
        }
    }

    public boolean isEmpty() {
        return byRelation.isEmpty();
    }

    /** The lowest GSN above {@code deps} of a key one of {@code probe} clashes with ({@link CertRules#clashes}), or null. */
    public Gsn lowestClashAbove(List<Key> probe, Gsn deps) {
        return lowest(probe, deps, CertRules::clashes);
    }

    /**
     * R2: the lowest GSN above {@code deps} of a key one of {@code probe} depends on ({@link CertRules#dependsOn}), or
     * null: the cause {@link CertRules#sameOriginCause} finds among lost changes indexed with their causes.
     */
    public Gsn lowestDependencyAbove(List<Key> probe, Gsn deps) {
        return CertRules.sameOriginRule ? lowest(probe, deps, CertRules::dependsOn) : null;
    }

    private Gsn lowest(List<Key> probe, Gsn deps, BiPredicate<Key, Key> rule) {
        Gsn best = null;
        for (Key k : probe) {
            Map<KeyKind, TreeMap<Gsn, Integer>> rel = byRelation.get(k.relation());
            if (rel == null) {
                continue;
            }
            if (k.kind() == KeyKind.TABLE) {
                best = lowest(k, rel, deps, rule, best);
            } else {
                best = lowest(k, byItem.getOrDefault(k.item(), Map.of()), deps, rule, best);
                TreeMap<Gsn, Integer> tables = rel.get(KeyKind.TABLE);
                if (tables != null && rule.test(k, Key.table(k.relation()))) {
                    best = lower(best, tables.higherKey(deps));
                }
            }
        }
        return best;
    }

    /** Over the kinds of keys that all meet {@code k}: the lowest GSN above deps of a kind the rule accepts. */
    private static Gsn lowest(Key k, Map<KeyKind, TreeMap<Gsn, Integer>> kinds, Gsn deps, BiPredicate<Key, Key> rule,
                              Gsn best) {
        for (Map.Entry<KeyKind, TreeMap<Gsn, Integer>> e : kinds.entrySet()) {
            if (rule.test(k, sample(e.getKey(), k))) {
                best = lower(best, e.getValue().higherKey(deps));
            }
        }
        return best;
    }

    /** A key of {@code kind} that meets {@code k} (on its item, or anywhere in its relation when k is a TABLE key). */
    private static Key sample(KeyKind kind, Key k) {
        if (kind == KeyKind.TABLE) {
            return Key.table(k.relation());
        }
        return k.kind() == KeyKind.TABLE ? new Key(kind, k.relation(), "", List.of())
                : new Key(kind, k.relation(), k.index(), k.values());
    }

    private static Gsn lower(Gsn a, Gsn b) {
        return a == null ? b : b == null ? a : Gsn.min(a, b);
    }

    private static void count(Map<KeyKind, TreeMap<Gsn, Integer>> kinds, KeyKind kind, Gsn gsn, int n) {
        kinds.computeIfAbsent(kind, x -> new TreeMap<>()).merge(gsn, n, Integer::sum);
    }

    /** Takes one count away; returns whether {@code kinds} became empty. */
    private static boolean uncount(Map<KeyKind, TreeMap<Gsn, Integer>> kinds, KeyKind kind, Gsn gsn) {
        if (kinds == null || kinds.get(kind) == null) {
            return false;
        }
        TreeMap<Gsn, Integer> gsns = kinds.get(kind);
        gsns.computeIfPresent(gsn, (g, n) -> n == 1 ? null : n - 1);
        if (gsns.isEmpty()) {
            kinds.remove(kind);
        }
        return kinds.isEmpty();
    }
}
