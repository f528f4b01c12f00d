package io.chorus.coordinator.pending;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Column;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import io.chorus.coordinator.apply.RestoreRow;
import io.chorus.coordinator.certify.Certifier;
import io.chorus.coordinator.certify.CertifierConfig;
import io.chorus.coordinator.certify.Verdict;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The tracker on tables with the default replica identity (no old tuple on UPDATE): restores take unknown columns
 * from a winner that overwrites the row, skip rows the winner deletes, and otherwise refuse with the fix.
 */
class PendingTrackerTest {
    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");
    private static final RelationName T = RelationName.of("public", "t");
    private static final Relation REL = new Relation(T, 'd', List.of(new Column("id", true, 23, -1),
            new Column("v", false, 25, -1), new Column("u", false, 25, -1)));
    private long lsn;
    private final Certifier certifier = new Certifier(CertifierConfig.defaults());
    private long gsn;

    private static List<Key> keys(KeyKind kind, Tuple t) {
        return List.of(new Key(kind, T, "t_pkey", List.of(t.text(0))), new Key(kind, T, "t_u_key",
                List.of(t.text(2))));
    }

    private ChangeSet cs(NodeId origin, long deps, Change... changes) {
        return new ChangeSet(new Gtid(origin, Lsn.of(++lsn)), lsn, Instant.EPOCH, Gsn.of(deps), List.of(changes));
    }

    /** UPDATE as pgoutput sends it under REPLICA IDENTITY DEFAULT with an unchanged key: no old tuple. */
    private static RowChange update(String id, String v, String u) {
        Tuple t = Tuple.ofTexts(id, v, u);
        return new RowChange(REL, Op.UPDATE, t, null, false, keys(KeyKind.WRITE, t));
    }

    private static RowChange insert(String id, String v, String u) {
        Tuple t = Tuple.ofTexts(id, v, u);
        return new RowChange(REL, Op.INSERT, t, null, false, keys(KeyKind.WRITE, t));
    }

    private static RowChange delete(String id, String u) {
        Tuple key = Tuple.ofTexts(id, null, null);
        return new RowChange(REL, Op.DELETE, null, key, true, List.of(new Key(KeyKind.DELETE, T, "t_pkey",
                List.of(id)), new Key(KeyKind.DELETE, T, "t_u_key", List.of(u))));
    }

    private Verdict deliver(ChangeSet c) {
        return certifier.certify(Gsn.of(++gsn), c);
    }

    @Test
    void aWinnerThatOverwritesTheRowSuppliesTheUnknownColumns() {
        PendingTracker a = new PendingTracker(A);
        ChangeSet mine = cs(A, 0, update("1", "mine", "5"));
        a.addLocal(mine);
        assertThat(a.isPendingRow(T, List.of("1"))).isTrue();
        List<RestoreRow> restores = a.onRemoteWinner(deliver(cs(B, 0, update("1", "theirs", "5"))));
        assertThat(restores).containsExactly(new RestoreRow(REL, List.of("1"), Tuple.ofTexts("1", "theirs", "5")));
        assertThat(a.isPendingRow(T, List.of("1"))).as("rolled back: the row must now match the group").isFalse();
        a.onOwnDelivered(deliver(mine));
        assertThat(a.pendingCount()).isZero();
        assertThat(a.pendingRowCount()).isZero();
    }

    @Test
    void aWinnerThatDeletesTheRowNeedsNoRestore() {
        PendingTracker a = new PendingTracker(A);
        ChangeSet mine = cs(A, 0, update("1", "mine", "5"));
        a.addLocal(mine);
        assertThat(a.onRemoteWinner(deliver(cs(B, 0, delete("1", "5"))))).isEmpty();
        assertThat(a.isPendingRow(T, List.of("1"))).as("the winner's DELETE may find the row or not").isTrue();
        a.onOwnDelivered(deliver(mine));
        assertThat(a.isPendingRow(T, List.of("1"))).isFalse();
    }

    @Test
    void aRestoreThatNeedsAnUnknownColumnNamesTheTableAndTheFix() {
        PendingTracker a = new PendingTracker(A);
        a.addLocal(cs(A, 0, update("1", "mine", "5")));
        Verdict winner = deliver(cs(B, 0, insert("2", "theirs", "5")));
        assertThatThrownBy(() -> a.onRemoteWinner(winner)).isInstanceOf(ChorusException.class)
                .hasMessageContaining("cannot roll back local row [1] of public.t before applying GSN 1 from b")
                .hasMessageContaining("columns [v, u]")
                .hasMessageContaining("ALTER TABLE \"public\".\"t\" REPLICA IDENTITY FULL");
    }

    @Test
    void anInsertRollsBackToAbsenceAndALaterLiveVersionSurvives() {
        PendingTracker a = new PendingTracker(A);
        ChangeSet first = cs(A, 0, insert("1", "x", "7"));
        ChangeSet second = cs(A, 0, insert("3", "y", "8"));
        a.addLocal(first);
        a.addLocal(second);
        List<RestoreRow> restores = a.onRemoteWinner(deliver(cs(B, 0, insert("9", "z", "7"))));
        assertThat(restores).containsExactly(new RestoreRow(REL, List.of("1"), null));
        assertThat(a.isPendingRow(T, List.of("3"))).isTrue();
        a.onOwnDelivered(deliver(first));
        a.onOwnDelivered(deliver(second));
        assertThat(a.pendingCount()).isZero();
    }

    @Test
    void aDoomedSetThatDiffersFromTheCertifierIsALoudError() {
        PendingTracker a = new PendingTracker(A);
        ChangeSet mine = cs(A, 0, insert("1", "x", "7"));
        a.addLocal(mine);
        // The winner was never shown to the tracker: the certifier says "lost", the tracker rolled nothing back.
        deliver(cs(B, 0, insert("1", "z", "6")));
        assertThatThrownBy(() -> a.onOwnDelivered(deliver(mine))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("rolled back changes [] locally but the certifier says changes [0] lost");
        assertThatThrownBy(() -> a.addLocal(cs(B, 0, insert("4", "x", "1"))))
                .hasMessageContaining("is not from this node (a)");
    }

    @Test
    void aWinnerRecomputedAfterASlippedLocalCommitDoomsItToo() {
        PendingTracker a = new PendingTracker(A);
        ChangeSet first = cs(A, 0, insert("1", "x", "7"));
        a.addLocal(first);
        Verdict winner = deliver(cs(B, 0, insert("1", "z", "8")));
        assertThat(a.onRemoteWinner(winner)).containsExactly(new RestoreRow(REL, List.of("1"), null));
        // A local commit reached the WAL before the helper committed: take the computation back and redo it.
        a.undoLastRemoteWinner();
        assertThat(a.isPendingRow(T, List.of("1"))).isTrue();
        ChangeSet slipped = cs(A, 0, insert("2", "y", "8"));
        a.addLocal(slipped);
        assertThat(a.onRemoteWinner(winner)).containsExactlyInAnyOrder(
                new RestoreRow(REL, List.of("1"), null), new RestoreRow(REL, List.of("2"), null));
        a.onOwnDelivered(deliver(first));
        a.onOwnDelivered(deliver(slipped));
        assertThat(a.pendingCount()).isZero();
        assertThatThrownBy(a::undoLastRemoteWinner).hasMessageContaining("only valid directly after onRemoteWinner");
    }
}
