package io.chorus.coordinator.certify;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Tuple;
import io.chorus.coordinator.apply.ConflictRow;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The conflict matrix of DESIGN §3, one test per cell: histories of two or three simulated nodes sharing one log,
 * each node running the real certifier and pending-row tracker. Every cell checks the final state on every node, the
 * conflicts recorded on every node and the exact winner.
 */
class ConflictMatrixTest {
    private static final int A = 0;
    private static final int B = 1;
    private static final int C = 2;

    private static SimDb.Stmt ins(String t, String pk, String v, String x) {
        return new SimDb.Stmt("ins", t, pk, Arrays.asList(v, x));
    }

    private static SimDb.Stmt upd(String t, String pk, String v, String x) {
        return new SimDb.Stmt("upd", t, pk, Arrays.asList(v, x));
    }

    private static SimDb.Stmt del(String t, String pk) {
        return new SimDb.Stmt("del", t, pk, List.of());
    }

    private static SimDb init(String... rows) {
        SimDb db = new SimDb();
        for (String r : rows) {
            String[] f = r.split(":", -1);
            db.put(f[0], f[1], Tuple.ofTexts(f[1], f[2], f[3].equals("null") ? null : f[3]));
        }
        return db;
    }

    private static SimCluster cluster(int nodes, SimDb init) {
        return new SimCluster(nodes, init, true);
    }

    private static void tx(SimCluster c, int node, SimDb.Stmt... stmts) {
        assertThat(c.local(node, List.of(stmts))).as("local transaction commits on %s", SimCluster.name(node))
                .isTrue();
    }

    /** Appends in the given node order, lets every node process the log, and checks convergence. */
    private static void order(SimCluster c, int... origins) {
        for (int n : origins) {
            assertThat(c.append(n)).as("outbox of %s holds a changeset", SimCluster.name(n)).isTrue();
        }
        c.drain();
        c.sayFinal();
        c.finalChecks();
    }

    private static void assertConverged(SimCluster c, String expected) {
        assertThat(c.failures).as("failures; trace:\n%s", String.join("\n", c.trace)).isEmpty();
        for (SimCluster.Node nd : c.nodes) {
            assertThat(nd.db.toString()).as("final state of %s", nd.id).isEqualTo(expected);
        }
    }

    /** Expected conflicts as "gsn/index kind loser winnerGsn winnerOrigin key", identical on every node. */
    private static void assertConflicts(SimCluster c, String... expected) {
        assertConflicts(c, c.nodes, expected);
    }

    private static void assertConflicts(SimCluster c, List<SimCluster.Node> nodes, String... expected) {
        for (SimCluster.Node nd : nodes) {
            List<String> got = new ArrayList<>();
            Map<Long, List<ConflictRow>> byGsn = new TreeMap<>(c.conflicts(nd));
            byGsn.values().forEach(rows -> rows.forEach(r -> got.add(r.gsn() + "/" + r.changeIndex() + " " + r.kind()
                    + " " + r.loserOrigin() + " " + r.winnerGsn() + " " + r.winnerOrigin() + " " + r.key())));
            assertThat(got).as("conflicts recorded on %s", nd.id).containsExactly(expected);
        }
    }

    @Test
    void insertInsertSameKey() {
        SimCluster c = cluster(2, init());
        tx(c, A, ins("p", "1", "a", null));
        tx(c, B, ins("p", "1", "b", null));
        order(c, A, B);
        assertConverged(c, "p1(v=a,u=null)");
        assertConflicts(c, "2/0 insert_insert b 1 a WRITE:public.p/pkey[1]");
    }

    @Test
    void updateUpdate() {
        SimCluster c = cluster(2, init("p:1:0:null"));
        tx(c, A, upd("p", "1", "1", "="));
        tx(c, B, upd("p", "1", "2", "="));
        order(c, B, A);
        assertConverged(c, "p1(v=2,u=null)");
        assertConflicts(c, "2/0 update_update a 1 b WRITE:public.p/pkey[1]");
    }

    @Test
    void updateDelete() {
        SimCluster c = cluster(2, init("p:1:0:null"));
        tx(c, A, upd("p", "1", "1", "="));
        tx(c, B, del("p", "1"));
        order(c, A, B);
        assertConverged(c, "p1(v=1,u=null)");
        assertConflicts(c, "2/0 update_delete b 1 a DELETE:public.p/pkey[1]");
    }

    @Test
    void deleteUpdate() {
        SimCluster c = cluster(2, init("p:1:0:null"));
        tx(c, A, upd("p", "1", "1", "="));
        tx(c, B, del("p", "1"));
        order(c, B, A);
        assertConverged(c, "(empty)");
        assertConflicts(c, "2/0 delete_update a 1 b WRITE:public.p/pkey[1]");
    }

    @Test
    void deleteDelete() {
        SimCluster c = cluster(3, init("p:1:0:null", "p:2:0:null"));
        tx(c, A, del("p", "1"));
        tx(c, B, del("p", "1"));
        order(c, B, A);
        assertConverged(c, "p2(v=0,u=null)");
        assertConflicts(c, "2/0 delete_delete a 1 b DELETE:public.p/pkey[1]");
    }

    @Test
    void insertInsertOnNonKeyUniqueIndex() {
        SimCluster c = cluster(2, init());
        tx(c, A, ins("p", "1", "0", "7"));
        tx(c, B, ins("p", "2", "0", "7"));
        order(c, A, B);
        assertConverged(c, "p1(v=0,u=7)");
        assertConflicts(c, "2/0 insert_insert b 1 a WRITE:public.p/u_key[7]");
    }

    @Test
    void updateUpdateMovingTwoRowsOntoOneUniqueValue() {
        SimCluster c = cluster(2, init("p:1:0:1", "p:2:0:2"));
        tx(c, A, upd("p", "1", "=", "3"));
        tx(c, B, upd("p", "2", "=", "3"));
        order(c, B, A);
        assertConverged(c, "p1(v=0,u=1) p2(v=0,u=3)");
        assertConflicts(c, "2/0 update_update a 1 b WRITE:public.p/u_key[3]");
    }

    @Test
    void freeUniqueValueThenReuseItAgainstConcurrentTaker() {
        SimCluster c = cluster(2, init("p:0:0:0"));
        tx(c, A, upd("p", "0", "=", "3"));
        tx(c, A, ins("p", "1", "0", "0"));
        tx(c, B, ins("p", "2", "0", "3"));
        order(c, B, A, A);
        assertConverged(c, "p0(v=0,u=0) p2(v=0,u=3)");
        assertConflicts(c, "2/0 insert_update a 1 b WRITE:public.p/u_key[3]",
                "3/0 dependency a 1 b WRITE:public.p/u_key[0]");
    }

    @Test
    void insertChildDeleteParentParentDeleteFirst() {
        SimCluster c = cluster(2, init("p:1:0:null"));
        tx(c, A, ins("c", "1", "0", "1"));
        tx(c, B, del("p", "1"));
        order(c, B, A);
        assertConverged(c, "(empty)");
        assertConflicts(c, "2/0 delete_insert a 1 b REFERENCE:public.p/pkey[1]");
    }

    @Test
    void insertChildDeleteParentChildInsertFirst() {
        SimCluster c = cluster(2, init("p:1:0:null"));
        tx(c, A, ins("c", "1", "0", "1"));
        tx(c, B, del("p", "1"));
        order(c, A, B);
        assertConverged(c, "c1(v=0,f=1) p1(v=0,u=null)");
        assertConflicts(c, "2/0 insert_delete b 1 a DELETE:public.p/pkey[1]");
    }

    @Test
    void insertChildDeleteParentInsertSameChildOnThreeNodes() {
        SimCluster c = cluster(3, init("p:0:0:null"));
        tx(c, A, ins("c", "0", "0", "0"));
        tx(c, B, del("p", "0"));
        tx(c, C, ins("c", "0", "1", "0"));
        order(c, B, A, C);
        assertConverged(c, "(empty)");
        assertConflicts(c, "2/0 delete_insert a 1 b REFERENCE:public.p/pkey[0]",
                "3/0 delete_insert c 1 b REFERENCE:public.p/pkey[0]");
    }

    @Test
    void updateChildForeignKeyDeleteParent() {
        SimCluster c = cluster(2, init("p:1:0:null", "p:2:0:null", "c:1:0:1"));
        tx(c, A, upd("c", "1", "=", "2"));
        tx(c, B, del("p", "2"));
        order(c, B, A);
        assertConverged(c, "c1(v=0,f=1) p1(v=0,u=null)");
        assertConflicts(c, "2/0 delete_update a 1 b REFERENCE:public.p/pkey[2]");
    }

    @Test
    void deleteParentUpdateChildForeignKeyChildFirst() {
        SimCluster c = cluster(2, init("p:1:0:null", "p:2:0:null", "c:1:0:1"));
        tx(c, A, upd("c", "1", "=", "2"));
        tx(c, B, del("p", "2"));
        order(c, A, B);
        assertConverged(c, "c1(v=0,f=2) p1(v=0,u=null) p2(v=0,u=null)");
        assertConflicts(c, "2/0 update_delete b 1 a DELETE:public.p/pkey[2]");
    }

    @Test
    void moveChildThenDeleteOldParentAgainstConcurrentDeleteOfNewParent() {
        SimCluster c = cluster(2, init("p:0:0:null", "p:1:0:null", "c:0:0:0"));
        tx(c, A, upd("c", "0", "=", "1"));
        tx(c, A, del("p", "0"));
        tx(c, B, del("p", "1"));
        order(c, B, A, A);
        assertConverged(c, "c0(v=0,f=0) p0(v=0,u=null)");
        assertConflicts(c, "2/0 delete_update a 1 b REFERENCE:public.p/pkey[1]",
                "3/0 dependency a 1 b DELETE:public.p/pkey[0]");
    }

    @Test
    void updateWithUnchangedToastAgainstDeleteUpdateFirst() {
        SimCluster c = cluster(2, init("d:1:0:BIG"));
        tx(c, A, upd("d", "1", "1", "="));
        tx(c, B, del("d", "1"));
        order(c, A, B);
        assertConverged(c, "d1(v=1,doc=BIG)");
        assertConflicts(c, "2/0 update_delete b 1 a DELETE:public.d/pkey[1]");
    }

    @Test
    void updateWithUnchangedToastAgainstDeleteDeleteFirst() {
        SimCluster c = cluster(2, init("d:1:0:BIG"));
        tx(c, A, upd("d", "1", "1", "="));
        tx(c, B, del("d", "1"));
        order(c, B, A);
        assertConverged(c, "(empty)");
        assertConflicts(c, "2/0 delete_update a 1 b WRITE:public.d/pkey[1]");
    }

    @Test
    void truncateInsertTruncateFirst() {
        SimCluster c = cluster(2, init("d:1:0:x"));
        tx(c, A, new SimDb.Stmt("trunc", "d", "", List.of()));
        tx(c, B, ins("d", "2", "0", "y"));
        order(c, A, B);
        assertConverged(c, "(empty)");
        assertConflicts(c, "2/0 truncate_insert b 1 a WRITE:public.d/pkey[2]");
    }

    @Test
    void truncateInsertInsertFirstStopsTheTruncatingOrigin() {
        SimCluster c = cluster(2, init("d:1:0:x"));
        tx(c, A, new SimDb.Stmt("trunc", "d", "", List.of()));
        tx(c, B, ins("d", "2", "0", "y"));
        order(c, B, A);
        // The truncate loses; its origin cannot bring the truncated rows back: it stops (before certifying GSN 2)
        // when the winner arrives, and rejoins by full transfer.
        assertConflicts(c, List.of(c.nodes.get(B)), "2/0 insert_truncate a 1 b TABLE:public.d");
        assertThat(c.nodes.get(A).halted).isNotNull();
        assertThat(c.nodes.get(B).db.toString()).isEqualTo("d1(v=0,doc=x) d2(v=0,doc=y)");
        assertThat(c.failures).extracting(SimCluster.Failure::message).singleElement().asString()
                .contains("pending local TRUNCATE of [public.d]", "loses to GSN 1", "rejoin it by full state transfer");
    }

    /** Model H4: a rollback must not wipe out an earlier pending change of the same row that wins. */
    @Test
    void insertThenMoveOntoAUniqueValueTakenConcurrentlyOnThreeNodes() {
        SimCluster c = cluster(3, init());
        tx(c, A, ins("p", "2", "0", "3"));
        tx(c, A, upd("p", "2", "=", "2"));
        tx(c, B, ins("p", "1", "0", "2"));
        order(c, B, A, A);
        assertConverged(c, "p1(v=0,u=2) p2(v=0,u=3)");
        assertConflicts(c, "3/0 insert_update a 1 b WRITE:public.p/u_key[2]");
    }

    @Test
    void updateTwiceAgainstDeleteAndReinsertOnThreeNodes() {
        SimCluster c = cluster(3, init("p:0:0:null"));
        tx(c, A, upd("p", "0", "1", "="));
        tx(c, A, upd("p", "0", "2", "="));
        tx(c, B, del("p", "0"));
        tx(c, B, ins("p", "0", "1", null));
        order(c, B, A, B, A);
        assertConverged(c, "p0(v=1,u=null)");
        assertConflicts(c, "2/0 delete_update a 1 b WRITE:public.p/pkey[0]",
                "4/0 delete_update a 1 b WRITE:public.p/pkey[0]");
    }
}
