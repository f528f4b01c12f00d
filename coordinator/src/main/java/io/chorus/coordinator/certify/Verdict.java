package io.chorus.coordinator.certify;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.coordinator.apply.ConflictRow;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The certifier's decision on one delivered changeset: which of its changes lost, and why. Immutable; identical on
 * every node for the same log.
 *
 * @param lostIndexes    positions (0-based, in {@code changeSet.changes()}) of the changes that lost
 * @param conflicts      one conflict per lost change, in change order
 * @param uncertifiable  the changeset's deps lies below the index's low mark: every certified change lost
 */
public record Verdict(Gsn gsn, ChangeSet changeSet, SortedSet<Integer> lostIndexes, List<Conflict> conflicts,
                      boolean uncertifiable) {
    public Verdict {
        Objects.requireNonNull(gsn, "gsn");
        Objects.requireNonNull(changeSet, "changeSet");
        lostIndexes = java.util.Collections.unmodifiableSortedSet(new TreeSet<>(lostIndexes));
        conflicts = List.copyOf(conflicts);
    }

    public boolean lost(int changeIndex) {
        return lostIndexes.contains(changeIndex);
    }

    /** The changes that apply, in origin order. */
    public List<Change> winningChanges() {
        List<Change> out = new ArrayList<>();
        List<Change> all = changeSet.changes();
        for (int i = 0; i < all.size(); i++) {
            if (!lost(i)) {
                out.add(all.get(i));
            }
        }
        return out;
    }

    /** The keys of the changes that apply: what this changeset puts into the certification index. */
    public List<Key> appliedKeys() {
        List<Key> out = new ArrayList<>();
        for (Change c : winningChanges()) {
            out.addAll(CertRules.keysOf(c));
        }
        return out;
    }

    /** Every key of the changeset, winning or not (the applier's scheduling keys). */
    public List<Key> allKeys() {
        List<Key> out = new ArrayList<>();
        for (Change c : changeSet.changes()) {
            out.addAll(CertRules.keysOf(c));
        }
        return out;
    }

    /** The rows of {@code chorus.conflicts} for this verdict. */
    public List<ConflictRow> conflictRows() {
        List<ConflictRow> rows = new ArrayList<>(conflicts.size());
        for (Conflict c : conflicts) {
            rows.add(c.toRow(gsn));
        }
        return rows;
    }
}
