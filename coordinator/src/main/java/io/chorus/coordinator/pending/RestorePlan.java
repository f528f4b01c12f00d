package io.chorus.coordinator.pending;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.RowChange;
import io.chorus.coordinator.apply.RestoreRow;
import io.chorus.coordinator.certify.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Computes the rows a remote winner's helper transaction must restore (R3). A row whose newest pending version is
 * doomed goes back to its newest live pending version, else to its base.
 *
 * <p>Unknown columns (unchanged TOAST never sent, or an old tuple without REPLICA IDENTITY FULL) are never written as
 * placeholders. When the winner itself writes the row, its new tuple supplies them (the winner overwrites them in the
 * same transaction anyway); when the winner deletes the row, no restore is needed (the winner removes whatever is
 * there; a missing row is one of this node's pending rows). Otherwise the restore is impossible and the node stops
 * with an error that names the table and the fix.
 */
final class RestorePlan {
    private RestorePlan() {
    }

    static List<RestoreRow> restores(Set<RowId> touched, Map<RowId, RowState> rows, Verdict v,
                                     WinnerUndo undo) {
        List<RestoreRow> out = new ArrayList<>();
        for (RowId row : touched) {
            RowState st = rows.get(row);
            if (st == null || !st.newestDoomed()) {
                continue;
            }
            RowImage target = st.current();
            if (!target.complete()) {
                RowStep winnerStep = winnerStep(row, v);
                if (winnerStep != null && winnerStep.newTuple() == null) {
                    if (!st.leftToWinner) {
                        st.leftToWinner = true;
                        undo.leftToWinner.add(st);
                    }
                    continue;
                }
                if (winnerStep != null) {
                    target = target.filledFrom(RowImage.of(winnerStep.newTuple()));
                }
                if (!target.complete()) {
                    throw unknownBase(row, st, target, v);
                }
            }
            out.add(new RestoreRow(st.relation, row.identity(), target.present() ? target.tuple() : null));
        }
        return out;
    }

    /** The winner's last step on {@code row}, or null. */
    private static RowStep winnerStep(RowId row, Verdict v) {
        RowStep last = null;
        for (Change c : v.winningChanges()) {
            if (c instanceof RowChange rc && rc.relation().name().equals(row.relation())) {
                for (RowStep s : RowStep.of(rc)) {
                    if (s.row().equals(row)) {
                        last = s;
                    }
                }
            }
        }
        return last;
    }

    private static ChorusException unknownBase(RowId row, RowState st, RowImage target, Verdict v) {
        return new ChorusException("cannot roll back local row " + row.identity() + " of " + row.relation()
                + " before applying GSN " + v.gsn() + " from " + v.changeSet().origin() + ": the group's version of"
                + " columns " + target.unknownColumns(st.relation) + " was never decoded here (no old tuple). Run "
                + "ALTER TABLE " + row.relation().quoted() + " REPLICA IDENTITY FULL on every node, then rejoin this "
                + "node by full state transfer");
    }
}
