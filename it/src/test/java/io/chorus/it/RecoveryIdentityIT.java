package io.chorus.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.it.check.ClusterCheck;
import io.chorus.it.harness.ChorusCluster;
import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The group identity is stored in each database (DESIGN §7): a database that belongs to another group's history is
 * refused with a message naming both identities and the fix; after the fix (disable, request a full transfer,
 * enable) it joins with the group's data.
 */
@Tag("slow")
class RecoveryIdentityIT {

    @Test
    void databaseOfAnotherGroupIsRefusedUntilMovedByFullTransfer() throws Exception {
        String schema = "CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL);\n"
                + "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 500) g;\n";
        try (ChorusCluster cluster = ChorusCluster.start(3, 2, "identity", schema, null, "async", s -> s)) {
            String groupIdentity;
            try (Connection c = cluster.connect(1)) {
                groupIdentity = Sql.one(c, "SELECT value FROM chorus.meta WHERE key = 'group_identity'");
            }
            String foreign = UUID.randomUUID().toString();
            try (Connection c = cluster.connect(3)) {
                io.chorus.it.harness.Await.until("node3's sidecar to install the chorus schema", Duration.ofSeconds(90),
                        () -> "true".equals(Sql.one(c, "SELECT (to_regclass('chorus.meta') IS NOT NULL AND "
                                + "coalesce(chorus._sidecar_age() < 5, false))::text")));
                Sql.exec(c, "INSERT INTO chorus.meta (key, value) VALUES ('group_name', ?), ('group_identity', ?)",
                        cluster.local().group(), foreign);
                Sql.one(c, "SELECT chorus.enable('" + cluster.local().group() + "')::text");
                assertThatThrownBy(() -> Sql.one(c, "SELECT chorus.wait_ready('ONLINE', '120 s')"))
                        .isInstanceOf(SQLException.class)
                        .hasMessageContaining("belongs to group identity " + foreign)
                        .hasMessageContaining(groupIdentity)
                        .hasMessageContaining("chorus.request_full_transfer()");
                assertThat(Sql.one(c, "SELECT value FROM chorus.meta WHERE key = 'group_identity'"))
                        .as("node3's stored identity after the refusal").isEqualTo(foreign);

                Sql.one(c, "SELECT chorus.disable()::text");
                Sql.one(c, "SELECT chorus.wait_ready('OFFLINE', '60 s')");
                Sql.one(c, "SELECT chorus.request_full_transfer()");
                Sql.one(c, "SELECT chorus.enable('" + cluster.local().group() + "')::text");
            }
            RecoveryJoinIT.awaitState(cluster, 3, "ONLINE", Duration.ofSeconds(180));
            ClusterCheck.Verdict v = ClusterCheck.verify(cluster, List.of(), Duration.ofSeconds(60));
            assertThat(v.ok()).as(v.describe()).isTrue();
            try (Connection c = cluster.connect(3)) {
                assertThat(Sql.one(c, "SELECT value FROM chorus.meta WHERE key = 'group_identity'"))
                        .as("node3's stored identity after the move").isEqualTo(groupIdentity);
                assertThat(Sql.one(c, "SELECT count(*) FROM items")).as("rows copied to node3").isEqualTo("500");
            }
        }
    }
}
