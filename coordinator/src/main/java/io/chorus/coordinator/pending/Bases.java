package io.chorus.coordinator.pending;

import io.chorus.changeset.Change;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.coordinator.certify.Verdict;
import java.util.Map;
import java.util.Set;

/** Takes a remote winner's applied row changes into the bases of tracked rows (the group's versions). */
final class Bases {
    private Bases() {
    }

    /**
     * Advances the base of every tracked row the winner writes, or of the rows in {@code only} when it is not null,
     * recording each replaced base in {@code undo} (first replacement only).
     */
    static void advance(Verdict v, Map<RowId, RowState> rows, Set<RowId> only, WinnerUndo undo, Visits visits) {
        for (Change c : v.winningChanges()) {
            visits.add(1);
            if (c instanceof RowChange rc) {
                for (RowStep step : RowStep.of(rc)) {
                    RowState st = rows.get(step.row());
                    if (st != null && (only == null || only.contains(step.row()))) {
                        undo.bases.putIfAbsent(st, st.base);
                        st.base = step.after(st.base);
                    }
                }
            } else if (c instanceof TruncateChange tc) {
                for (Map.Entry<RowId, RowState> e : rows.entrySet()) {
                    if (tc.relations().contains(e.getKey().relation())
                            && (only == null || only.contains(e.getKey()))) {
                        undo.bases.putIfAbsent(e.getValue(), e.getValue().base);
                        e.getValue().base = RowImage.ABSENT;
                    }
                }
            }
        }
    }
}
