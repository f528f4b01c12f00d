package io.chorus.coordinator.apply;

import io.chorus.changeset.Change;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.RelationName;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Consecutive apply units that commit in one helper transaction, with the union of their keys. Two batches whose keys
 * meet never run at the same time; an exclusive batch (restores, messages, units without keys) runs alone.
 *
 * <p>The unit list and key sets are immutable after construction; the run state is written by the owning helper and
 * read by the blocker watch (volatile fields).
 */
final class Batch {
    private final List<ApplyUnit> units;
    private final Set<Key.Item> items = new HashSet<>();
    private final Set<RelationName> relations = new HashSet<>();
    private final Set<RelationName> tables = new HashSet<>();
    private final boolean exclusive;
    private final int rowCount;
    /** Restores learned from the {@link ApplyGuard} while the batch ran; they go first in its next transaction. */
    private final List<RestoreRow> lateRestores = new ArrayList<>();

    /** Units of this batch already committed (careful mode commits unit by unit). Written by the helper thread. */
    private volatile int committedUnits;
    private volatile boolean yieldRequested;
    private volatile int backendPid;
    private volatile long executingSinceNanos;
    /** Times local commits raced this batch (see {@link Helper}); whether a re-run held local writers already. */
    private int races;
    private boolean held;
    /** A held re-run gave way to a local transaction: the next run goes without the hold. */
    private boolean gaveWay;

    Batch(List<ApplyUnit> units) {
        if (units.isEmpty()) {
            throw new IllegalArgumentException("empty batch");
        }
        this.units = List.copyOf(units);
        boolean excl = false;
        int rows = 0;
        for (ApplyUnit u : this.units) {
            excl |= collectKeys(u);
            rows += u.changes().size() + u.restores().size();
        }
        this.exclusive = excl;
        this.rowCount = rows;
    }

    /** Adds the unit's keys; returns whether the unit needs to run alone. */
    private boolean collectKeys(ApplyUnit u) {
        if (!u.restores().isEmpty()) {
            return true;
        }
        if (u.changes().isEmpty()) {
            return false;
        }
        for (Change c : u.changes()) {
            if (c instanceof MessageChange) {
                return true;
            }
        }
        for (Key k : u.keys()) {
            if (k.kind() == KeyKind.TABLE) {
                tables.add(k.relation());
            } else {
                items.add(k.item());
                relations.add(k.relation());
            }
        }
        return items.isEmpty() && tables.isEmpty();
    }

    /** Whether this batch and {@code other} may touch the same rows, so must not run at the same time. */
    boolean meets(Batch other) {
        if (exclusive || other.exclusive) {
            return true;
        }
        return intersects(items, other.items) || intersects(tables, other.tables)
                || intersects(tables, other.relations) || intersects(other.tables, relations);
    }

    private static <T> boolean intersects(Set<T> a, Set<T> b) {
        Set<T> small = a.size() <= b.size() ? a : b;
        Set<T> large = small == a ? b : a;
        for (T t : small) {
            if (large.contains(t)) {
                return true;
            }
        }
        return false;
    }

    List<ApplyUnit> units() {
        return units;
    }

    Gsn first() {
        return units.get(0).gsn();
    }

    Gsn last() {
        return units.get(units.size() - 1).gsn();
    }

    /** The GSN this batch waits for before its next commit: the one before its first uncommitted unit. */
    Gsn predecessor() {
        int done = committedUnits;
        return done >= units.size() ? last() : Gsn.of(units.get(done).gsn().value() - 1);
    }

    /** The GSN of the first unit not committed yet. */
    Gsn next() {
        return units.get(committedUnits).gsn();
    }

    List<RestoreRow> lateRestores() {
        return lateRestores;
    }

    /**
     * Adds late restores; returns whether there were any. A row taken again (a later local commit touched it too)
     * replaces its earlier rollback: the later one was computed knowing more.
     */
    boolean addLateRestores(List<RestoreRow> rows) {
        lateRestores.removeIf(old -> rows.stream().anyMatch(r -> sameRow(r, old)));
        lateRestores.addAll(rows);
        return !rows.isEmpty();
    }

    /** Counts one more race of local commits with this batch; returns how many so far. */
    int raced() {
        return ++races;
    }

    int races() {
        return races;
    }

    /** Marks that a re-run of this batch held local writers; returns whether it is the first. */
    boolean firstHold() {
        boolean first = !held;
        held = true;
        return first;
    }

    /** Marks that a held re-run rolled back to let local writers go on; the next run does not hold them. */
    void gaveWay() {
        gaveWay = true;
    }

    /** Whether the last held re-run gave way (see {@link #gaveWay()}); clears it. */
    boolean takeGaveWay() {
        boolean g = gaveWay;
        gaveWay = false;
        return g;
    }

    static boolean sameRow(RestoreRow a, RestoreRow b) {
        return a.relation().name().equals(b.relation().name()) && a.identity().equals(b.identity());
    }

    int committedUnits() {
        return committedUnits;
    }

    void unitsCommitted(int count) {
        committedUnits = count;
    }

    /** Skips the units whose GSN is at or below {@code durable} (found committed after a lost connection). */
    void skipCommittedUpTo(Gsn durable) {
        while (committedUnits < units.size() && !units.get(committedUnits).gsn().isAfter(durable)) {
            committedUnits++;
        }
    }

    boolean isDone() {
        return committedUnits == units.size();
    }

    int rowCount() {
        return rowCount;
    }

    boolean exclusive() {
        return exclusive;
    }

    /** The origin commit time recorded with the progress: the last unit's, or now for progress-only batches. */
    Instant commitTimeOf(ApplyUnit u) {
        return u.originCommitTime() != null ? u.originCommitTime() : Instant.now();
    }

    void requestYield() {
        yieldRequested = true;
    }

    boolean yieldRequested() {
        return yieldRequested;
    }

    void clearYield() {
        yieldRequested = false;
    }

    int backendPid() {
        return backendPid;
    }

    /** Marks the batch as holding an open transaction on backend {@code pid} (0: none, no locks held). */
    void executing(int pid) {
        executingSinceNanos = System.nanoTime();
        backendPid = pid;
    }

    void released() {
        backendPid = 0;
    }

    long executingSinceNanos() {
        return executingSinceNanos;
    }

    @Override
    public String toString() {
        return "batch[" + first() + ".." + last() + ", " + units.size() + " units, " + rowCount + " rows"
                + (exclusive ? ", exclusive" : "") + "]";
    }
}
