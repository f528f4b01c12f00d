package io.chorus.coordinator.certify;

import io.chorus.changeset.Change;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import io.chorus.coordinator.apply.RestoreRow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

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
    boolean batch(SimCluster.Node nd, int max, Interleaving il) {
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
            if (il != null && il.loseFirstRun()) {
                runBatch(nd, units, late); // lost: whatever it met does not count
                nd.db.replaceWith(before);
                c.say(n + ": the run of GSN " + first + ".." + last + " is lost and rolled back");
                c.local(c.nodes.indexOf(nd), il.stmts());
                before = nd.db.copy();
            }
            boolean rerun = true;
            for (int attempt = 0; rerun && attempt < 3; attempt++) {
                nd.db.replaceWith(before);
                f = runBatch(nd, units, late);
                if (il != null && !il.loseFirstRun() && attempt == 0) {
                    before = commitDuring(nd, before, locked(units, late, before), il.stmts());
                }
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

    /**
     * What else happens on the node while a batch runs: its first run is lost (a terminated backend, a yield) and a
     * local transaction that waited for its rows commits before the re-run; or a local transaction on rows the run
     * did not write commits while the run is open (its deps stay below the batch).
     */
    record Interleaving(boolean loseFirstRun, List<SimDb.Stmt> stmts) {
    }

    /**
     * A local transaction commits while the helper transaction is open: only if it touches no row the run wrote (it
     * would wait for the lock). It stays committed when the run rolls back, so the state a re-run starts from takes
     * its rows. Returns that state.
     */
    private SimDb commitDuring(SimCluster.Node nd, SimDb before, Set<List<String>> locked, List<SimDb.Stmt> stmts) {
        for (SimDb.Stmt s : stmts) {
            if (locked.contains(List.of(s.table(), s.pk()))) {
                c.say("      a local txn on " + nd.id + " waits for a row the helper wrote: it commits later");
                return before;
            }
        }
        if (!c.local(c.nodes.indexOf(nd), stmts, true)) {
            return before;
        }
        SimDb after = before.copy();
        for (SimDb.Stmt s : stmts) {
            Tuple t = nd.db.tables.get(s.table()).get(s.pk());
            if (t == null) {
                after.tables.get(s.table()).remove(s.pk());
            } else {
                after.tables.get(s.table()).put(s.pk(), t);
            }
        }
        return after;
    }

    /**
     * The rows (table, key) the run locked: every row its restores and winners write, except a rollback to "absent" of
     * a row that was not there (a DELETE that finds nothing locks nothing). Primary keys only: histories with foreign
     * keys or unique values never commit a local transaction during a run.
     */
    private static Set<List<String>> locked(List<SimCluster.Unit> units, List<RestoreRow> late, SimDb before) {
        Set<List<String>> out = new HashSet<>();
        List<RestoreRow> restores = new ArrayList<>(late);
        units.forEach(u -> restores.addAll(u.restores()));
        for (RestoreRow r : restores) {
            String table = r.relation().name().table();
            if (!r.removes() || before.tables.get(table).containsKey(r.identity().get(0))) {
                out.add(List.of(table, r.identity().get(0)));
            }
        }
        for (SimCluster.Unit u : units) {
            for (Change ch : u.verdict() == null ? List.<Change>of() : u.verdict().winningChanges()) {
                if (ch instanceof RowChange rc) {
                    for (Tuple t : Arrays.asList(rc.identityTuple(), rc.newTuple())) {
                        if (t != null) {
                            out.add(List.of(rc.relation().name().table(), t.text(0)));
                        }
                    }
                }
            }
        }
        return out;
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
        // as the applier writes them (RowWriter): the late rollbacks and the first unit's own as one set, the late one
        // winning for a row in both; the later units' own rollbacks in their place
        List<RestoreRow> first = new ArrayList<>(late);
        if (!late.isEmpty()) {
            for (RestoreRow r : units.get(0).restores()) {
                if (late.stream().noneMatch(l -> l.relation().name().equals(r.relation().name())
                        && l.identity().equals(r.identity()))) {
                    first.add(r);
                }
            }
        }
        String f = restore(nd, first);
        for (int i = 0; i < units.size(); i++) {
            SimCluster.Unit u = units.get(i);
            if (f == null && u.verdict() != null && !u.verdict().changeSet().origin().equals(nd.id)) {
                List<RestoreRow> own = i == 0 && !late.isEmpty() ? List.of() : inPlace(units, i, late);
                if (!own.isEmpty()) {
                    c.say("      " + nd.id + " GSN " + u.gsn() + ":");
                }
                f = applyRemote(nd, u.verdict(), own);
            }
        }
        return f;
    }

    /**
     * A later unit's own rollbacks as the applier writes them in their place (RowWriter.inPlace): without a row the
     * late set already took to the target a later unit of the batch restores it to, when no winner needs it before.
     */
    private static List<RestoreRow> inPlace(List<SimCluster.Unit> units, int i, List<RestoreRow> late) {
        List<RestoreRow> own = units.get(i).restores();
        if (late.isEmpty()) {
            return own;
        }
        List<RestoreRow> out = new ArrayList<>();
        for (RestoreRow r : own) {
            if (!restoredLater(units, i, r, late)) {
                out.add(r);
            }
        }
        return out;
    }

    private static boolean restoredLater(List<SimCluster.Unit> units, int i, RestoreRow r, List<RestoreRow> late) {
        RestoreRow early = late.stream().filter(l -> same(l, r)).findFirst().orElse(null);
        if (early == null || java.util.Objects.equals(early.target(), r.target()) || writes(units.get(i), r)) {
            return false;
        }
        for (int j = i + 1; j < units.size(); j++) {
            for (RestoreRow o : units.get(j).restores()) {
                if (same(o, r)) {
                    return java.util.Objects.equals(o.target(), early.target());
                }
            }
            if (writes(units.get(j), r)) {
                return false;
            }
        }
        return false;
    }

    private static boolean same(RestoreRow a, RestoreRow b) {
        return a.relation().name().equals(b.relation().name()) && a.identity().equals(b.identity());
    }

    private static boolean writes(SimCluster.Unit u, RestoreRow r) {
        for (Change ch : u.verdict() == null ? List.<Change>of() : u.verdict().winningChanges()) {
            if (ch instanceof RowChange rc && rc.relation().name().equals(r.relation().name())) {
                for (Tuple t : Arrays.asList(rc.identityTuple(), rc.newTuple())) {
                    if (t != null && t.text(0).equals(r.identity().get(0))) {
                        return true;
                    }
                }
            }
        }
        return false;
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
