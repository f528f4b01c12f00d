package io.chorus.coordinator.certify;

import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.RelationName;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A set of keys (e.g. a winner's applied keys) hashed by item, so each probe costs one lookup plus the TABLE keys
 * of the probed relation instead of a scan. Immutable after construction; not shared between threads.
 */
public final class KeyLookup {
    private final Map<Key.Item, List<Key>> byItem = new HashMap<>();
    private final Map<RelationName, List<Key>> byRelation = new HashMap<>();
    private final Map<RelationName, List<Key>> tableKeys = new HashMap<>();

    public KeyLookup(List<Key> keys) {
        for (Key k : keys) {
            byRelation.computeIfAbsent(k.relation(), r -> new ArrayList<>()).add(k);
            if (k.kind() == KeyKind.TABLE) {
                tableKeys.computeIfAbsent(k.relation(), r -> new ArrayList<>()).add(k);
            } else {
                byItem.computeIfAbsent(k.item(), i -> new ArrayList<>()).add(k);
            }
        }
    }

    /** Whether any of {@code probe} clashes with a key of this set ({@link CertRules#clashes}). */
    public boolean clashesAny(List<Key> probe) {
        for (Key k : probe) {
            List<Key> candidates = k.kind() == KeyKind.TABLE ? byRelation.get(k.relation()) : byItem.get(k.item());
            if (anyClash(k, candidates) || k.kind() != KeyKind.TABLE && anyClash(k, tableKeys.get(k.relation()))) {
                return true;
            }
        }
        return false;
    }

    private static boolean anyClash(Key k, List<Key> candidates) {
        if (candidates != null) {
            for (Key c : candidates) {
                if (CertRules.clashes(k, c)) {
                    return true;
                }
            }
        }
        return false;
    }
}
