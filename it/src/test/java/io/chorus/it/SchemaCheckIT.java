package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.Await;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The schema check of every restart (DESIGN §6, issue 8): a node whose tables were changed outside replication while
 * its sidecar was down is refused when it comes back, with every difference (table, column, type) in chorus.status()
 * and its log, and applies nothing of the group's meanwhile; once the change is undone it rejoins by itself and has
 * the group's rows. Nodes restarted after a replicated DDL — its origin and a node that applied it — are not refused.
 */
@Tag("slow")
class SchemaCheckIT {
    static final String SCHEMA = """
            CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL);
            INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g;
            """;
    static final Duration BARRIER = Duration.ofSeconds(90);

    @Test
    void schemaChangedOutsideReplicationIsRefusedAtRestartUntilUndone() throws Exception {
        try (ChorusCluster cluster = ChorusCluster.start(3, "schemacheck", SCHEMA, null)) {
            try (Connection c = cluster.connect(1)) {
                Sql.exec(c, "ALTER TABLE items ADD COLUMN note text");
            }
            assertThat(cluster.barrier(BARRIER)).as("barrier after the replicated DDL").isEmpty();

            // the DDL's origin (node1) and a node that applied it (node2) restart without a refusal
            for (int i = 1; i <= 2; i++) {
                cluster.nodes().killSidecar(i);
                cluster.nodes().startSidecar(i);
                cluster.awaitOnline(i, Duration.ofSeconds(180));
                assertThat(Files.readString(cluster.local().sidecarLog(i))).as("node%d's log", i)
                        .contains("schema unchanged since GSN");
            }

            cluster.nodes().killSidecar(3);
            try (Connection c = cluster.connect(3)) {
                Sql.exec(c, "SET chorus.replicate_ddl = off");
                Sql.exec(c, "ALTER TABLE items ADD COLUMN secret int");
                Sql.exec(c, "ALTER TABLE items ALTER COLUMN note TYPE varchar(20)");
            }
            try (Connection c = cluster.connect(1)) {
                Sql.exec(c, "INSERT INTO items (id, label, note) SELECT g, 'item ' || g, 'while node3 was down' "
                        + "FROM generate_series(101, 150) g");
            }
            cluster.nodes().startSidecar(3);
            String[] error = {null};
            Await.until("node3 to refuse its changed schema in chorus.status()", Duration.ofSeconds(180), () -> {
                ChorusCluster.NodeStatus s = cluster.status(3);
                error[0] = s.lastError();
                return "FAILED".equals(s.state()) && s.lastError() != null
                        && s.lastError().contains("differs from the group's");
            });
            System.out.println("SchemaCheckIT: node3 refused: " + error[0]);
            assertThat(error[0]).as("node3's last_error in chorus.status()")
                    .contains("the schema of database schemacheck differs from the group's at its watermark W=")
                    .contains("in 3 place(s)")
                    .contains("only here: column \"public\".\"items\" #4 \"secret\" integer")
                    .contains("only here: column \"public\".\"items\" #3 \"note\" character varying(20)")
                    .contains("missing here: column \"public\".\"items\" #3 \"note\" text")
                    .contains("SET chorus.replicate_ddl = off");
            assertThat(Files.readString(cluster.local().sidecarLog(3))).as("node3's log")
                    .contains("only here: column \"public\".\"items\" #4 \"secret\" integer");
            try (Connection c = cluster.connect(3)) {
                assertThat(Sql.one(c, "SELECT count(*) FROM items")).as("rows on node3 while refused").isEqualTo("100");
                Sql.exec(c, "SET chorus.replicate_ddl = off");
                Sql.exec(c, "ALTER TABLE items DROP COLUMN secret");
                Sql.exec(c, "ALTER TABLE items ALTER COLUMN note TYPE text");
            }
            Await.until("node3 to rejoin by itself once its schema is the group's again", Duration.ofSeconds(240),
                    () -> cluster.status(3).online());
            assertThat(cluster.barrier(BARRIER)).as("barrier after node3 rejoined").isEmpty();
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, List.of(), Duration.ofSeconds(60));
            assertThat(v.ok()).as(v.describe()).isTrue();
            try (Connection c = cluster.connect(3)) {
                assertThat(Sql.one(c, "SELECT count(*) FILTER (WHERE note = 'while node3 was down') FROM items"))
                        .as("rows node1 wrote while node3 was refused, on node3").isEqualTo("50");
            }
            for (int i = 1; i <= 3; i++) {
                try (Connection c = cluster.connect(i)) {
                    assertThat(Sql.one(c, "SELECT chorus.schema_fingerprint()")).as("node%d's fingerprint", i)
                            .isEqualTo(fingerprint(cluster, 1));
                }
            }
        }
    }

    private static String fingerprint(ChorusCluster cluster, int i) throws SQLException {
        try (Connection c = cluster.connect(i)) {
            return Sql.one(c, "SELECT chorus.schema_fingerprint()");
        }
    }
}
