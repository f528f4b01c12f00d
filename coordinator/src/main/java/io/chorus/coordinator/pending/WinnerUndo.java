package io.chorus.coordinator.pending;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** What one {@code onRemoteWinner} changed, so the delivery thread can take it back and compute it again. */
final class WinnerUndo {
    final List<PendingChange> doomed = new ArrayList<>();
    final Map<RowState, RowImage> bases = new IdentityHashMap<>();
    final List<RowState> leftToWinner = new ArrayList<>();
    final Set<RowId> rows = new LinkedHashSet<>();

    void revert() {
        doomed.forEach(pc -> pc.doom(null));
        bases.forEach((st, base) -> st.base = base);
        leftToWinner.forEach(st -> st.leftToWinner = false);
    }
}
