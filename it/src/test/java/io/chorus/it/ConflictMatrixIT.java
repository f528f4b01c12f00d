package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.coordinator.demo.LocalCluster;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The conflict matrix of DESIGN §3 on a real three-node cluster (three PostgreSQL servers, three sidecar processes).
 * Each cell makes the race deterministic: node2's sidecar is frozen (SIGSTOP) while node2 commits its write and node1
 * commits the conflicting one, so node1's changeset is ordered first (node1 and node3 are a majority) and node2's
 * second. After node2 is thawed and every node passed a read barrier, every node must hold the same rows — the
 * expected ones — and the same conflict rows. A conflict row names the relation of the clashing key, so a child's
 * change that lost to its parent's delete is recorded under the parent.
 */
@Tag("slow")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ConflictMatrixIT {
    private static final String BIG = "(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 700) i)";
    private LocalCluster cluster;

    @BeforeAll
    void startCluster() throws SQLException {
        cluster = LocalCluster.create(3, "matrix", "matrix");
        for (int i = 1; i <= 3; i++) {
            try (Connection c = cluster.connect(i); Statement st = c.createStatement()) {
                for (String t : List.of("ii", "uu", "ud", "du", "dd")) {
                    st.execute("CREATE TABLE " + t + " (id int PRIMARY KEY, v text)");
                }
                st.execute("CREATE TABLE uq1 (id int PRIMARY KEY, u text UNIQUE)");
                st.execute("CREATE TABLE uq2 (id int PRIMARY KEY, u text UNIQUE)");
                st.execute("CREATE TABLE uq3 (id int PRIMARY KEY, u text UNIQUE)");
                for (String s : List.of("a", "b", "c", "d")) {
                    st.execute("CREATE TABLE p_" + s + " (id int PRIMARY KEY)");
                    st.execute("CREATE TABLE c_" + s + " (id int PRIMARY KEY, pid int NOT NULL REFERENCES p_" + s + ")");
                }
                st.execute("CREATE TABLE toast1 (id int PRIMARY KEY, title text, body text)");
                st.execute("CREATE TABLE toast2 (id int PRIMARY KEY, title text, body text)");
                st.execute("CREATE TABLE tr (id int PRIMARY KEY)");
            }
        }
        cluster.startSidecars();
        for (int i = 1; i <= 3; i++) {
            try (Connection c = cluster.connect(i)) {
                Cluster.awaitSurface(c, i);
                Cluster.one(c, "SELECT chorus.enable('matrix', " + (i == 1) + ")");
            }
        }
        for (int i = 1; i <= 3; i++) {
            try (Connection c = cluster.connect(i)) {
                Cluster.one(c, "SELECT chorus.wait_ready('ONLINE', '120 s')");
            }
        }
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void insertInsertSameKey() throws SQLException {
        race(List.of("INSERT INTO ii VALUES (1, 'node1')"), List.of("INSERT INTO ii VALUES (1, 'node2')"));
        expect("ii", List.of("(1,node1)"), "insert_insert");
    }

    @Test
    void updateUpdate() throws SQLException {
        seed("INSERT INTO uu VALUES (1, 'seed')");
        race(List.of("UPDATE uu SET v = 'node1' WHERE id = 1"), List.of("UPDATE uu SET v = 'node2' WHERE id = 1"));
        expect("uu", List.of("(1,node1)"), "update_update");
    }

    @Test
    void updateDelete() throws SQLException {
        seed("INSERT INTO ud VALUES (1, 'seed')");
        race(List.of("UPDATE ud SET v = 'node1' WHERE id = 1"), List.of("DELETE FROM ud WHERE id = 1"));
        expect("ud", List.of("(1,node1)"), "update_delete");
    }

    @Test
    void deleteUpdate() throws SQLException {
        seed("INSERT INTO du VALUES (1, 'seed')");
        race(List.of("DELETE FROM du WHERE id = 1"), List.of("UPDATE du SET v = 'node2' WHERE id = 1"));
        expect("du", List.of(), "delete_update");
    }

    @Test
    void deleteDelete() throws SQLException {
        seed("INSERT INTO dd VALUES (1, 'seed'), (2, 'keep')");
        race(List.of("DELETE FROM dd WHERE id = 1"), List.of("DELETE FROM dd WHERE id = 1"));
        expect("dd", List.of("(2,keep)"), "delete_delete");
    }

    @Test
    void insertInsertOnUniqueIndex() throws SQLException {
        race(List.of("INSERT INTO uq1 VALUES (1, 'x')"), List.of("INSERT INTO uq1 VALUES (2, 'x')"));
        expect("uq1", List.of("(1,x)"), "insert_insert");
    }

    @Test
    void updateUpdateMovingTwoRowsOntoOneUniqueValue() throws SQLException {
        seed("INSERT INTO uq2 VALUES (1, 'a'), (2, 'b')");
        race(List.of("UPDATE uq2 SET u = 'z' WHERE id = 1"), List.of("UPDATE uq2 SET u = 'z' WHERE id = 2"));
        expect("uq2", List.of("(1,z)", "(2,b)"), "update_update");
    }

    @Test
    void freeAUniqueValueThenReuseItAgainstAConcurrentTaker() throws SQLException {
        seed("INSERT INTO uq3 VALUES (1, 'x')");
        race(List.of("INSERT INTO uq3 VALUES (3, 'y')"),
                List.of("UPDATE uq3 SET u = 'y' WHERE id = 1", "INSERT INTO uq3 VALUES (2, 'x')"));
        expect("uq3", List.of("(1,x)", "(3,y)"), "insert_update", "dependency");
    }

    @Test
    void insertChildWinsOverDeleteParent() throws SQLException {
        seed("INSERT INTO p_a VALUES (1)");
        race(List.of("INSERT INTO c_a VALUES (1, 1)"), List.of("DELETE FROM p_a WHERE id = 1"));
        expect("p_a", List.of("(1)"), "insert_delete");
        expect("c_a", List.of("(1,1)"));
    }

    @Test
    void deleteParentWinsOverInsertChild() throws SQLException {
        seed("INSERT INTO p_b VALUES (1)");
        race(List.of("DELETE FROM p_b WHERE id = 1"), List.of("INSERT INTO c_b VALUES (1, 1)"));
        expect("p_b", List.of(), "delete_insert"); // a conflict names the relation of the clashing key: the parent
        expect("c_b", List.of());
    }

    @Test
    void updateChildForeignKeyAgainstDeleteParent() throws SQLException {
        seed("INSERT INTO p_c VALUES (1), (2)", "INSERT INTO c_c VALUES (1, 1)");
        race(List.of("DELETE FROM p_c WHERE id = 2"), List.of("UPDATE c_c SET pid = 2 WHERE id = 1"));
        expect("p_c", List.of("(1)"), "delete_update");
        expect("c_c", List.of("(1,1)"));
    }

    @Test
    void moveChildThenDeleteOldParentAgainstConcurrentDeleteOfNewParent() throws SQLException {
        seed("INSERT INTO p_d VALUES (1), (2)", "INSERT INTO c_d VALUES (1, 1)");
        race(List.of("DELETE FROM p_d WHERE id = 2"),
                List.of("UPDATE c_d SET pid = 2 WHERE id = 1", "DELETE FROM p_d WHERE id = 1"));
        expect("p_d", List.of("(1)"), "delete_update", "dependency");
        expect("c_d", List.of("(1,1)"));
    }

    @Test
    void updateWithUnchangedToastWinsOverDelete() throws SQLException {
        seed("INSERT INTO toast1 VALUES (1, 'seed', " + BIG + ")");
        race(List.of("UPDATE toast1 SET title = 'node1' WHERE id = 1"), List.of("DELETE FROM toast1 WHERE id = 1"));
        expectQuery("toast1", "SELECT id || ':' || title || ':' || md5(body) FROM toast1 ORDER BY id",
                List.of("1:node1:" + md5Of(BIG)), "update_delete");
    }

    @Test
    void deleteWinsOverUpdateWithUnchangedToast() throws SQLException {
        seed("INSERT INTO toast2 VALUES (1, 'seed', " + BIG + ")");
        race(List.of("DELETE FROM toast2 WHERE id = 1"), List.of("UPDATE toast2 SET title = 'node2' WHERE id = 1"));
        expect("toast2", List.of(), "delete_update");
    }

    @Test
    void truncateWinsOverInsert() throws SQLException {
        seed("INSERT INTO tr VALUES (1)");
        race(List.of("TRUNCATE tr"), List.of("INSERT INTO tr VALUES (2)"));
        expect("tr", List.of(), "truncate_insert");
    }

    // ---- the race and the checks ----

    private void seed(String... sql) throws SQLException {
        try (Connection c = cluster.connect(1); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
        Cluster.barrier(cluster);
    }

    /** node2 commits {@code loser} while frozen; node1 commits {@code winner}, ordered first; then all converge. */
    private void race(List<String> winner, List<String> loser) throws SQLException {
        cluster.pauseSidecar(2);
        try {
            try (Connection c = cluster.connect(2); Statement st = c.createStatement()) {
                for (String s : loser) {
                    st.execute(s);
                }
            }
            try (Connection c = cluster.connect(1); Statement st = c.createStatement()) {
                for (String s : winner) {
                    st.execute(s);
                }
                Cluster.one(c, "SELECT chorus.sync_wait('60 s')");
            }
            try (Connection c = cluster.connect(3)) {
                Cluster.one(c, "SELECT chorus.sync_wait('60 s')");
            }
        } finally {
            cluster.resumeSidecar(2);
        }
        Cluster.barrier(cluster);
    }

    private void expect(String table, List<String> rows, String... conflictKinds) throws SQLException {
        expectQuery(table, "SELECT t::text FROM " + table + " t ORDER BY 1", rows, conflictKinds);
    }

    private void expectQuery(String table, String query, List<String> rows, String... conflictKinds) throws SQLException {
        List<List<String>> conflicts = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            try (Connection c = cluster.connect(i)) {
                assertThat(Cluster.column(c, query)).as("rows of %s on node%d", table, i).containsExactlyElementsOf(rows);
                conflicts.add(Cluster.column(c, "SELECT kind || ' ' || loser_origin || ' lost to ' || coalesce(winner_origin, '-') "
                        + "|| ' gsn ' || gsn || '/' || change_index || ' cause ' || cause_gsn FROM chorus.conflicts "
                        + "WHERE relation = 'public." + table + "' ORDER BY gsn, change_index"));
            }
        }
        assertThat(conflicts.get(1)).as("conflicts of %s on node2 vs node1", table).isEqualTo(conflicts.get(0));
        assertThat(conflicts.get(2)).as("conflicts of %s on node3 vs node1", table).isEqualTo(conflicts.get(0));
        List<String> kinds = conflicts.get(0).stream().map(s -> s.substring(0, s.indexOf(' '))).toList();
        assertThat(kinds).as("conflict kinds of %s", table).containsExactlyInAnyOrder(conflictKinds);
        for (String row : conflicts.get(0)) {
            assertThat(row).as("the loser is node2's change").contains("node2 lost to");
        }
    }

    private String md5Of(String expr) throws SQLException {
        try (Connection c = cluster.connect(1)) {
            return Cluster.one(c, "SELECT md5(" + expr + ")");
        }
    }
}
