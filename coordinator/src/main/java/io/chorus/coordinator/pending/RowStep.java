package io.chorus.coordinator.pending;

import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import java.util.List;

/**
 * What one row change does to one row: the row's image before (as decoded) and its new tuple (null: the row is gone
 * afterwards). An UPDATE that changes the key is two steps: the old row goes, the new row appears.
 *
 * @param source the image unchanged-TOAST columns of {@code newTuple} are taken from
 */
record RowStep(RowId row, Relation relation, RowImage before, Tuple newTuple, RowImage source) {

    static List<RowStep> of(RowChange rc) {
        Relation rel = rc.relation();
        if (rc.op() == Op.INSERT) {
            return List.of(new RowStep(RowId.of(rel, rc.newTuple()), rel, RowImage.ABSENT, rc.newTuple(),
                    RowImage.ABSENT));
        }
        RowImage old = oldImage(rc);
        RowId oldId = RowId.of(rel, rc.identityTuple());
        if (rc.op() == Op.DELETE) {
            return List.of(new RowStep(oldId, rel, old, null, RowImage.ABSENT));
        }
        RowId newId = RowId.of(rel, rc.newTuple());
        if (newId.equals(oldId)) {
            return List.of(new RowStep(newId, rel, old, rc.newTuple(), old));
        }
        return List.of(new RowStep(oldId, rel, old, null, RowImage.ABSENT),
                new RowStep(newId, rel, RowImage.ABSENT, rc.newTuple(), old));
    }

    private static RowImage oldImage(RowChange rc) {
        if (rc.oldTuple() == null) {
            return RowImage.keysOnly(rc.relation(), rc.newTuple());
        }
        return rc.oldIsKeyOnly() ? RowImage.keysOnly(rc.relation(), rc.oldTuple()) : RowImage.of(rc.oldTuple());
    }

    /** The row after this step, given the row's physical image before it (for unchanged-TOAST columns). */
    RowImage after(RowImage physicalBefore) {
        if (newTuple == null) {
            return RowImage.ABSENT;
        }
        return source.filledFrom(physicalBefore).under(newTuple);
    }
}
