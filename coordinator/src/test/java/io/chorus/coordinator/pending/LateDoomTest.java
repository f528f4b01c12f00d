package io.chorus.coordinator.pending;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Late doom: a local commit that reaches the tracker after a concurrent remote winner was processed (and before that
 * winner committed here) is doomed exactly as if it had been known in time; its rollback is recorded for the winner's
 * transaction. Tables have REPLICA IDENTITY FULL (complete old tuples). Every history is certified by the real
 * certifier, and every own delivery checks the doomed set against its losers.
 */
class LateDoomTest {
    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");
    private static final RelationName T = RelationName.of("public", "t");
    private static final RelationName CH = RelationName.of("public", "ch");
    private static final Relation TREL = new Relation(T, 'f', List.of(new Column("id", true, 23, -1),
            new Column("v", false, 25, -1), new Column("u", false, 25, -1)));
    private static final Relation CREL = new Relation(CH, 'f', List.of(new Column("id", true, 23, -1),
            new Column("pid", false, 23, -1)));
    private final Certifier certifier = new Certifier(CertifierConfig.defaults());
    private final PendingTracker a = new PendingTracker(A);
    private long lsn;
    private long gsn;

    private ChangeSet cs(NodeId origin, long deps, Change... changes) {
        return new ChangeSet(new Gtid(origin, Lsn.of(++lsn)), lsn, Instant.EPOCH, Gsn.of(deps), List.of(changes));
    }

    private static List<Key> tkeys(KeyKind kind, Tuple row) {
        List<Key> keys = new ArrayList<>(List.of(new Key(kind, T, "t_pkey", List.of(row.text(0)))));
        if (row.text(2) != null) {
            keys.add(new Key(kind, T, "t_u_key", List.of(row.text(2))));
        }
        return keys;
    }

    private static RowChange insert(String id, String v, String u) {
        Tuple t = Tuple.ofTexts(id, v, u);
        return new RowChange(TREL, Op.INSERT, t, null, false, tkeys(KeyKind.WRITE, t));
    }

    /** UPDATE with an unchanged key and unique value: old tuple complete (REPLICA IDENTITY FULL). */
    private static RowChange update(Tuple old, String v) {
        Tuple t = Tuple.ofTexts(old.text(0), v, old.text(2));
        return new RowChange(TREL, Op.UPDATE, t, old, false, tkeys(KeyKind.WRITE, t));
    }

    private static RowChange delete(Tuple old) {
        return new RowChange(TREL, Op.DELETE, null, old, false, tkeys(KeyKind.DELETE, old));
    }

    private static RowChange insertChild(String id, String pid) {
        return new RowChange(CREL, Op.INSERT, Tuple.ofTexts(id, pid), null, false, List.of(
                new Key(KeyKind.WRITE, CH, "ch_pkey", List.of(id)), new Key(KeyKind.REFERENCE, T, "t_pkey",
                        List.of(pid))));
    }

    private Verdict deliver(ChangeSet c) {
        return certifier.certify(Gsn.of(++gsn), c);
    }

    /** Delivers an own changeset: the tracker asserts its doomed set equals the certifier's losers. */
    private Verdict deliverOwn(ChangeSet c) {
        Verdict v = deliver(c);
        a.onOwnDelivered(v);
        return v;
    }

    private static Gsn g(long v) {
        return Gsn.of(v);
    }

    /** A bank transfer that loses on one account is rolled back on both, eagerly and late: never applied in part. */
    @Test
    void aTransferLosingOneRowIsRolledBackWhole() {
        Tuple acc1 = Tuple.ofTexts("1", "100", null);
        Tuple acc2 = Tuple.ofTexts("2", "100", null);
        Tuple acc3 = Tuple.ofTexts("3", "100", null);
        ChangeSet eager = cs(A, 0, update(acc1, "90"), update(acc2, "110"));
        a.addLocal(eager);
        assertThat(a.onRemoteWinner(deliver(cs(B, 0, update(acc2, "95"), update(acc3, "105")))))
                .as("both rows of the losing transfer go back to the group's version")
                .containsExactlyInAnyOrder(new RestoreRow(TREL, List.of("1"), acc1), new RestoreRow(TREL, List.of("2"), acc2));
        Verdict v = deliverOwn(eager);
        assertThat(v.lostIndexes()).containsExactly(0, 1);
        assertThat(v.conflicts()).extracting(c -> c.kind()).containsExactly("transaction", "update_update");
        a.committed(g(2));
        ChangeSet late = cs(A, 0, update(acc3, "80"), update(Tuple.ofTexts("4", "100", null), "120"));
        a.onRemoteWinner(deliver(cs(B, 2, update(Tuple.ofTexts("3", "105", null), "106"))));
        a.addLocal(late);
        assertThat(a.takeLateRestores(g(3), g(3))).extracting(RestoreRow::identity)
                .containsExactlyInAnyOrder(List.of("3"), List.of("4"));
        assertThat(deliverOwn(late).lostIndexes()).containsExactly(0, 1);
        assertThat(a.pendingCount()).isZero();
    }

    @Test
    void aLateInsertLosingToAConcurrentInsertIsRolledBackInTheWinnersTransaction() {
        ChangeSet mine = cs(A, 0, insert("1", "mine", "5"));
        assertThat(a.onRemoteWinner(deliver(cs(B, 0, insert("1", "theirs", "6"))))).isEmpty();
        a.addLocal(mine);
        assertThat(a.isPendingRow(T, List.of("1"))).as("doomed and rolled back: must match the group").isFalse();
        assertThat(a.takeLateRestores(g(2), g(9))).as("recorded for GSN 1 only").isEmpty();
        assertThat(a.takeLateRestores(g(1), g(1))).containsExactly(new RestoreRow(TREL, List.of("1"), null));
        assertThat(a.takeLateRestores(g(1), g(1))).as("taken once").isEmpty();
        a.committed(g(1));
        assertThat(deliverOwn(mine).lostIndexes()).containsExactly(0);
        assertThat(a.pendingCount()).isZero();
        assertThat(a.pendingRowCount()).isZero();
    }

    @Test
    void aLateUpdateLosingToADeleteGoesBackToItsOldTupleAndLaterRollbacksUseTheWinnersVersion() {
        Tuple orig = Tuple.ofTexts("1", "orig", "5");
        RowChange mineUpd = update(orig, "mine");
        ChangeSet mine = cs(A, 0, mineUpd);
        a.onRemoteWinner(deliver(cs(B, 0, update(orig, "b1"))));
        a.onRemoteWinner(deliver(cs(B, 1, delete(Tuple.ofTexts("1", "b1", "5")))));
        a.addLocal(mine);
        assertThat(a.takeLateRestores(g(1), g(2))).as("rolled back before GSN 1, the lowest winner that dooms it")
                .containsExactly(new RestoreRow(TREL, List.of("1"), orig));
        a.committed(g(2));
        // GSN 3: B inserts the row again; a later local update on it loses to GSN 4: back to GSN 3's version.
        Tuple b3 = Tuple.ofTexts("1", "b3", "5");
        a.onRemoteWinner(deliver(cs(B, 2, insert("1", "b3", "5"))));
        ChangeSet next = cs(A, 3, update(b3, "mine2"));
        a.addLocal(next);
        assertThat(a.onRemoteWinner(deliver(cs(B, 3, update(b3, "b4"))))).containsExactly(
                new RestoreRow(TREL, List.of("1"), b3));
        assertThat(deliverOwn(mine).lostIndexes()).containsExactly(0);
        assertThat(deliverOwn(next).lostIndexes()).containsExactly(0);
    }

    @Test
    void aLateCommitOnARowTwoWinnersWriteTakesTheNewestWinnersVersionAsItsBase() {
        Tuple orig = Tuple.ofTexts("1", "orig", "5");
        Tuple b2 = Tuple.ofTexts("1", "b2", "5");
        ChangeSet mine = cs(A, 0, update(orig, "mine"));
        a.onRemoteWinner(deliver(cs(B, 0, update(orig, "b1"))));
        a.onRemoteWinner(deliver(cs(B, 1, update(Tuple.ofTexts("1", "b1", "5"), "b2"))));
        a.addLocal(mine);
        assertThat(a.takeLateRestores(g(1), g(2))).containsExactly(new RestoreRow(TREL, List.of("1"), orig));
        a.committed(g(2));
        // The row's base is now GSN 2's version: a later local update that loses goes back to it.
        ChangeSet next = cs(A, 2, update(b2, "mine2"));
        a.addLocal(next);
        assertThat(a.onRemoteWinner(deliver(cs(B, 2, update(b2, "b3"))))).containsExactly(
                new RestoreRow(TREL, List.of("1"), b2));
        assertThat(deliverOwn(mine).lostIndexes()).containsExactly(0);
        assertThat(deliverOwn(next).lostIndexes()).containsExactly(0);
    }

    @Test
    void aLateRollbackTheWinnersOwnRollbacksAlreadyWriteIsNotRepeated() {
        Tuple p0 = Tuple.ofTexts("0", "x", "2");
        Tuple p1 = Tuple.ofTexts("1", "y", "3");
        Tuple mine1 = Tuple.ofTexts("1", "mine", "0");
        ChangeSet swap = cs(A, 0, new RowChange(TREL, Op.UPDATE, mine1, p1, false, tkeys(KeyKind.WRITE, mine1)),
                new RowChange(TREL, Op.UPDATE, Tuple.ofTexts("0", "x", "3"), p0, false,
                        tkeys(KeyKind.WRITE, Tuple.ofTexts("0", "x", "3"))));
        a.addLocal(swap);
        List<RestoreRow> own = a.onRemoteWinner(deliver(cs(B, 0, update(p1, "theirs"))));
        assertThat(own).containsExactlyInAnyOrder(new RestoreRow(TREL, List.of("1"), p1),
                new RestoreRow(TREL, List.of("0"), p0));
        ChangeSet late = cs(A, 0, delete(mine1));
        a.addLocal(late);
        assertThat(a.isPendingRow(T, List.of("1"))).as("doomed: back to the group's version").isFalse();
        assertThat(a.takeLateRestores(g(1), g(1))).as("GSN 1's own rollback of row 1 (with row 0) already does it")
                .isEmpty();
        assertThat(deliverOwn(swap).lostIndexes()).containsExactly(0, 1);
        assertThat(deliverOwn(late).lostIndexes()).containsExactly(0);
    }

    /**
     * The winner's own rollback deletes a row this node inserted and deleted again (the DELETE finds nothing and locks
     * nothing); a local INSERT of that key commits while the winner's transaction is open, loses by R2, and goes back
     * to "absent" too. Same target, but written after it: the transaction must run again to delete the new row.
     */
    @Test
    void aLateInsertAfterTheWinnersRollbackToAbsentIsReturnedAgain() {
        Tuple two = Tuple.ofTexts("2", "x", null);
        ChangeSet mine = cs(A, 0, update(two, "mine"), insert("0", "mine", null));
        ChangeSet gone = cs(A, 0, delete(Tuple.ofTexts("0", "mine", null)));
        a.addLocal(mine);
        a.addLocal(gone);
        assertThat(a.onRemoteWinner(deliver(cs(B, 0, update(two, "theirs"))))).as("the winner's own rollbacks")
                .containsExactlyInAnyOrder(new RestoreRow(TREL, List.of("2"), two), new RestoreRow(TREL, List.of("0"),
                        null));
        assertThat(a.takeLateRestores(g(1), g(1))).as("nothing late yet").isEmpty();
        ChangeSet again = cs(A, 0, insert("0", "again", null));
        a.addLocal(again);
        assertThat(a.takeLateRestores(g(1), g(1))).as("row 0 inserted after the transaction deleted it")
                .contains(new RestoreRow(TREL, List.of("0"), null));
        assertThat(a.takeLateRestores(g(1), g(1))).as("taken once").isEmpty();
        a.committed(g(1));
        assertThat(deliverOwn(mine).lostIndexes()).containsExactly(0, 1);
        assertThat(deliverOwn(gone).lostIndexes()).containsExactly(0);
        assertThat(deliverOwn(again).lostIndexes()).containsExactly(0);
    }

    /**
     * Row 1 is retired twice (own deliveries at GSN 2 and 4, winners still uncommitted); the commit of GSN 2 must not
     * forget it while the rollback of GSN 4's loser is pending: a late commit on it would take the loser's version,
     * still in the row, as its base and roll back to it (FaultIT: an account ended on a doomed transfer's balance).
     */
    @Test
    void aRowRetiredTwiceKeepsItsBaseUntilTheLaterRetirementCommits() {
        Tuple x = Tuple.ofTexts("1", "x", null);
        Tuple seven = Tuple.ofTexts("7", "s", null);
        ChangeSet won = cs(A, 0, update(x, "a"));
        a.addLocal(won);
        a.onRemoteWinner(deliver(cs(B, 0, insert("9", "theirs", null))));
        deliverOwn(won);
        a.onRemoteWinner(deliver(cs(B, 0, update(seven, "theirs"))));
        Tuple va = Tuple.ofTexts("1", "a", null);
        ChangeSet lost = cs(A, 0, update(va, "b"), update(seven, "mine"));
        a.addLocal(lost);
        assertThat(deliverOwn(lost).lostIndexes()).containsExactly(0, 1);
        a.committed(g(2));
        ChangeSet late = cs(A, 0, update(Tuple.ofTexts("1", "b", null), "c"));
        a.addLocal(late);
        assertThat(a.takeLateRestores(g(3), g(3))).as("row 1 goes back to the version that won at GSN 2")
                .contains(new RestoreRow(TREL, List.of("1"), va))
                .doesNotContain(new RestoreRow(TREL, List.of("1"), Tuple.ofTexts("1", "b", null)));
    }

    @Test
    void aLateInsertOnATakenUniqueValueIsDoomed() {
        ChangeSet mine = cs(A, 0, insert("2", "mine", "7"));
        a.onRemoteWinner(deliver(cs(B, 0, insert("3", "theirs", "7"))));
        a.addLocal(mine);
        assertThat(a.takeLateRestores(g(1), g(1))).containsExactly(new RestoreRow(TREL, List.of("2"), null));
        assertThat(deliverOwn(mine).conflicts().get(0).kind()).isEqualTo("insert_insert");
    }

    @Test
    void aLateChildOfADeletedParentIsDoomed() {
        ChangeSet mine = cs(A, 0, insertChild("10", "1"));
        a.onRemoteWinner(deliver(cs(B, 0, delete(Tuple.ofTexts("1", "p", null)))));
        a.addLocal(mine);
        assertThat(a.isPendingRow(CH, List.of("10"))).isFalse();
        assertThat(a.takeLateRestores(g(1), g(1))).containsExactly(new RestoreRow(CREL, List.of("10"), null));
        assertThat(deliverOwn(mine).conflicts().get(0).kind()).isEqualTo("delete_insert");
    }

    @Test
    void aLateChildOfALateLosingParentIsDoomedThroughR2() {
        ChangeSet parent = cs(A, 0, insert("5", "mine", null));
        ChangeSet child = cs(A, 0, insertChild("10", "5"), insert("6", "unrelated", null));
        a.onRemoteWinner(deliver(cs(B, 0, insert("5", "theirs", null))));
        a.addLocal(parent);
        a.addLocal(child);
        assertThat(a.isPendingRow(T, List.of("6"))).as("the unrelated row goes with its transaction").isFalse();
        assertThat(a.takeLateRestores(g(1), g(1))).containsExactlyInAnyOrder(
                new RestoreRow(TREL, List.of("5"), null), new RestoreRow(CREL, List.of("10"), null),
                new RestoreRow(TREL, List.of("6"), null));
        assertThat(deliverOwn(parent).lostIndexes()).containsExactly(0);
        Verdict v = deliverOwn(child);
        assertThat(v.lostIndexes()).containsExactly(0, 1);
        assertThat(v.conflicts()).extracting(c -> c.kind()).containsExactly("dependency", "transaction");
    }

    @Test
    void aLateChildOfAParentThatLostAndWasDeliveredIsDoomedThroughR2() {
        ChangeSet parent = cs(A, 0, insert("5", "mine", null));
        a.addLocal(parent);
        assertThat(a.onRemoteWinner(deliver(cs(B, 0, insert("5", "theirs", null))))).containsExactly(
                new RestoreRow(TREL, List.of("5"), null));
        deliverOwn(parent);
        ChangeSet child = cs(A, 0, insertChild("10", "5"));
        a.addLocal(child);
        assertThat(a.takeLateRestores(g(1), g(2))).as("with GSN 1's own rollback of the parent, in one group")
                .containsExactlyInAnyOrder(new RestoreRow(CREL, List.of("10"), null), new RestoreRow(TREL, List.of("5"), null));
        assertThat(deliverOwn(child).conflicts().get(0).kind()).isEqualTo("dependency");
    }

    @Test
    void committedForgetsWinnersAndRefusesAnUntakenLateRollback() {
        ChangeSet mine = cs(A, 0, insert("1", "mine", null));
        Verdict w1 = deliver(cs(B, 0, insert("1", "theirs", null)));
        a.onRemoteWinner(w1);
        a.addLocal(mine);
        assertThatThrownBy(() -> a.committed(g(1))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("GSN 1 committed without the rollback of local rows [public.t[1]]");
        assertThat(a.takeLateRestores(g(1), g(1))).hasSize(1);
        a.committed(g(1));
        // GSN 1 is forgotten: a commit with deps 1 meets only winners after it, and none clashes.
        ChangeSet after = cs(A, 1, insert("1", "again", null));
        a.addLocal(after);
        assertThat(a.isPendingRow(T, List.of("1"))).isTrue();
        assertThat(a.takeLateRestores(g(1), g(100))).isEmpty();
        assertThat(a.minPendingDeps()).as("lowest deps of the undelivered").isEqualTo(g(0));
        deliverOwn(mine);
        assertThat(a.minPendingDeps()).isEqualTo(g(1));
        assertThat(deliverOwn(after).lostIndexes()).isEmpty();
        assertThat(a.minPendingDeps()).as("none pending").isEqualTo(Gsn.of(Long.MAX_VALUE));
    }

    @Test
    void aWinnerTakenBackIsNotKeptForLateDoom() {
        ChangeSet mine = cs(A, 0, insert("1", "mine", null));
        Verdict w1 = deliver(cs(B, 0, insert("1", "theirs", null)));
        a.onRemoteWinner(w1);
        a.undoLastRemoteWinner();
        a.addLocal(mine);
        assertThat(a.takeLateRestores(g(1), g(1))).as("the taken-back winner dooms nothing late").isEmpty();
        assertThat(a.onRemoteWinner(w1)).containsExactly(new RestoreRow(TREL, List.of("1"), null));
        assertThat(deliverOwn(mine).lostIndexes()).containsExactly(0);
    }
}
