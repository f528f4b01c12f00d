package io.chorus.coordinator.certify;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.NodeId;
import io.chorus.coordinator.apply.ConflictRow;
import java.util.Objects;

/**
 * One lost change of a certified changeset, identical on every node for the same log.
 *
 * @param changeIndex  position of the lost change in its changeset (0-based)
 * @param kind         {@code <winner op>_<loser op>} (e.g. {@code update_delete}, {@code truncate_insert}),
 *                     {@link #DEPENDENCY} (R2), {@link #TRANSACTION} or {@link #UNCERTIFIABLE}
 * @param loserOrigin  origin of the lost change
 * @param winnerGsn    the winning changeset: the clashing one, or for R2 the winner that caused the chain;
 *                     {@link Gsn#NONE} when uncertifiable
 * @param winnerOrigin origin of {@code winnerGsn}, null when none
 * @param key          the lost change's key that clashed (or depended); for uncertifiable, its first key
 * @param cause        lowest GSN of the winners that made it lose, inherited along R2 (for uncertifiable: the
 *                     changeset's own GSN)
 */
public record Conflict(int changeIndex, String kind, NodeId loserOrigin, Gsn winnerGsn, NodeId winnerOrigin, Key key,
                       Gsn cause) {
    public static final String DEPENDENCY = "dependency";
    public static final String UNCERTIFIABLE = "uncertifiable";
    /** A change that clashed with nothing itself but belongs to a changeset that lost another change. */
    public static final String TRANSACTION = "transaction";

    public Conflict {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(loserOrigin, "loserOrigin");
        Objects.requireNonNull(winnerGsn, "winnerGsn");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(cause, "cause");
    }

    /** The row of {@code chorus.conflicts} for this conflict of the changeset at {@code loserGsn}. */
    public ConflictRow toRow(Gsn loserGsn) {
        return new ConflictRow(loserGsn.value(), changeIndex, kind, loserOrigin.value(), winnerGsn.value(),
                winnerOrigin == null ? "" : winnerOrigin.value(), key.relation().toString(), key.toString(),
                cause.value());
    }
}
