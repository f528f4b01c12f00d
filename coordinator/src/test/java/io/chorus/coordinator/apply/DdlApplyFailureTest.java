package io.chorus.coordinator.apply;

import static io.chorus.coordinator.apply.Units.insert;
import static io.chorus.coordinator.apply.Units.relation;
import static io.chorus.coordinator.apply.Units.remote;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.Relation;
import io.chorus.schema.DdlMessage;
import io.chorus.testkit.PgServer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A replicated DDL statement that fails in a helper (this node's schema differs) is never skipped: the applier stops
 * before it, and its failure — what {@code chorus.status()} shows as the domain's last error — names the GSN, the
 * statement, the SQLState and the fix.
 */
class DdlApplyFailureTest {
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("ddlfail");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void aFailingDdlStopsTheApplierNamingTheStatementTheSqlStateAndTheFix() throws Exception {
        TestDb db = TestDb.create(pg, "ddlfail");
        db.exec("CREATE TABLE good (id int PRIMARY KEY)");
        Relation good = relation("good", "id");
        String ddl = "ALTER TABLE only_on_the_origin ADD COLUMN x int";
        MessageChange message = new MessageChange(DdlMessage.PREFIX, ("{\"v\":1,\"sql\":\"" + ddl + "\",\"search_path\":"
                + "\"public\",\"role\":\"postgres\",\"tag\":\"ALTER TABLE\",\"relations\":[[\"public\","
                + "\"only_on_the_origin\"]],\"keyed\":false}").getBytes(StandardCharsets.UTF_8));
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = new Applier(db.config().build(), rec)) {
            applier.submit(remote(1, "node2", insert(good, "1")));
            applier.submit(remote(2, "node2", message));
            applier.submit(remote(3, "node2", insert(good, "3")));
            assertThatThrownBy(() -> applier.awaitApplied(Gsn.of(3), TestDb.WAIT)).isInstanceOf(ChorusException.class);
            assertThat(applier.failure()).isNotNull();
            assertThat(applier.failure().getMessage()).contains("applying GSN 2 (origin node2)", "SQLState 42P01",
                    "replicated ALTER TABLE statement failed on this node", ddl, "never skipped",
                    "SET chorus.replicate_ddl = off, then restart the sidecar", "will not skip GSN 2");
            assertThat(applier.appliedGsn()).isEqualTo(Gsn.of(1));
        }
        assertThat(db.queryLong("SELECT count(*) FROM good")).as("nothing after the failed DDL committed").isEqualTo(1);
    }
}
