package io.chorus.coordinator.certify;

import io.chorus.changeset.Change;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.coordinator.apply.RestoreRow;
import java.util.ArrayList;
import java.util.List;

/**
 * A simulated node's helper transaction over its delivered GSNs, following the apply-guard protocol of the applier
 * ({@code io.chorus.coordinator.apply.ApplyGuard}): late restores first, then the units' restores and winning changes;
 * then the capture catches up, and the transaction is rolled back and re-run while late restores keep arriving.
 */
final class SimApply {
    private final SimCluster c;

    SimApply(SimCluster c) {
        this.c = c;
    }

    /**
     * Node n applies up to {@code max} delivered GSNs in one helper transaction, with the apply-guard protocol: late
     * restores first, then the units; then the capture catches up, and if late restores arrived the transaction rolls
     * back and re-runs with them first. A helper surprise stands only if no late restore explains it.
     */
    boolean batch(SimCluster.Node nd, int max) {
        String n = SimCluster.name(c.nodes.indexOf(nd));
        if (nd.halted != null || nd.queue.isEmpty()) {
            return false;
        }
        List<SimCluster.Unit> units = new ArrayList<>(nd.queue.subList(0, Math.min(max, nd.queue.size())));
        Gsn first = Gsn.of(units.get(0).gsn());
        Gsn last = Gsn.of(units.get(units.size() - 1).gsn());
        SimDb before = nd.db.copy();
        List<RestoreRow> late = new ArrayList<>();
        String f = null;
        try {
            addLate(late, nd.tracker.takeLateRestores(first, last));
            boolean rerun = true;
            for (int attempt = 0; rerun && attempt < 3; attempt++) {
                nd.db.replaceWith(before);
                f = runBatch(nd, units, late);
                c.catchUp(nd);
                rerun = nd.halted == null && addLate(late, nd.tracker.takeLateRestores(first, last));
                if (rerun) {
                    c.say(n + ": late restores for GSN " + first + ".." + last + ": re-run with " + late.size());
                }
            }
            if (rerun) {
                f = "late restores still arriving after 3 runs (the capture had caught up)";
            }
            if (nd.halted == null && f == null) {
                nd.tracker.committed(last);
            }
        } catch (RuntimeException e) {
            c.fail(nd, "tracker", n + " applying GSN " + first + ".." + last + ": " + e.getMessage());
        }
        if (f != null) {
            c.fail(nd, "apply-error", nd.id + " GSN " + first + ".." + last + ": " + f);
        }
        if (nd.halted == null) {
            nd.queue.subList(0, units.size()).clear();
            nd.applied = last.value();
            nd.db.orphans().forEach(o -> c.fail(nd, "transient-orphan", n + " after GSN " + last + ": " + o));
            nd.db.duplicates().forEach(d -> c.fail(nd, "dup-unique", n + " after GSN " + last + ": " + d));
        }
        return true;
    }

    /** Adds late restores as the applier's batch keeps them; returns whether there were any. */
    private boolean addLate(List<RestoreRow> late, List<RestoreRow> more) {
        c.lateRows += more.size();
        for (RestoreRow r : more) {
            if (late.removeIf(x -> x.relation().name().equals(r.relation().name())
                    && x.identity().equals(r.identity()))) {
                c.lateRepeats++;
            }
            late.add(r);
        }
        return !more.isEmpty();
    }

    private String runBatch(SimCluster.Node nd, List<SimCluster.Unit> units, List<RestoreRow> late) {
        c.say("      " + nd.id + " applies GSN " + units.get(0).gsn() + ".." + units.get(units.size() - 1).gsn()
                + (late.isEmpty() ? "" : " after late restores"));
        String f = restore(nd, late);
        for (SimCluster.Unit u : units) {
            if (f == null && u.verdict() != null && !u.verdict().changeSet().origin().equals(nd.id)) {
                f = applyRemote(nd, u.verdict(), u.restores());
            }
        }
        return f;
    }

    private String restore(SimCluster.Node nd, List<RestoreRow> restores) {
        for (RestoreRow r : restores) {
            c.say("      " + nd.id + " rolls back " + r.relation().name().table() + r.identity() + " -> "
                    + (r.removes() ? "<absent>" : SimSchema.show(r.relation().name().table(), r.target())));
        }
        return nd.db.restore(restores);
    }

    private String applyRemote(SimCluster.Node nd, Verdict v, List<RestoreRow> restores) {
        String f = restore(nd, restores);
        for (Change ch : v.winningChanges()) {
            if (f != null) {
                break;
            }
            if (ch instanceof RowChange rc) {
                f = nd.db.applyHelper(rc, nd.tracker);
            } else if (ch instanceof TruncateChange tc) {
                nd.db.truncate(tc.relations());
            }
        }
        return f;
    }
}
