package io.chorus.coordinator.apply;

import static io.chorus.coordinator.apply.Units.delete;
import static io.chorus.coordinator.apply.Units.insert;
import static io.chorus.coordinator.apply.Units.relation;
import static io.chorus.coordinator.apply.Units.remote;
import static io.chorus.coordinator.apply.Units.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.Relation;
import io.chorus.changeset.wire.WireCodec;
import io.chorus.schema.DdlMessage;
import io.chorus.testkit.PgServer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Relation versions (issue 8, item 3): changes written against a table's definition before a DROP COLUMN, an ADD
 * COLUMN with a default and a type change, encoded for the group's log and decoded before the DDL ran here, but
 * ordered after it, apply correctly on a real server. Every changeset carries the definition its changes were
 * written against (column names and types, per log entry), so the applier matches values to columns by name: the
 * dropped column's value is left out, the added column gets its default, a retyped column takes the text value.
 */
class ChangesAcrossDdlTest {
    private static PgServer pg;

    @BeforeAll
    static void start() {
        pg = PgServer.start("acrossddl");
    }

    @AfterAll
    static void stop() {
        if (pg != null) {
            pg.close();
        }
    }

    private static MessageChange ddl(String sql) {
        return new MessageChange(DdlMessage.PREFIX, ("{\"v\":1,\"sql\":\"" + sql + "\",\"search_path\":\"public\","
                + "\"role\":\"postgres\",\"tag\":\"ALTER TABLE\",\"relations\":[[\"public\",\"t\"]],\"keyed\":false}")
                .getBytes(StandardCharsets.UTF_8));
    }

    /** The changes as the group's log hands them over: encoded at the origin, decoded here. */
    private static Change[] throughTheLog(Change... changes) {
        WireCodec codec = new WireCodec();
        ChangeSet cs = new ChangeSet(Units.gtid("node2", 99), 7, Instant.now(), Gsn.NONE, List.of(changes));
        return codec.decode(codec.encode(List.of(cs))).get(0).changes().toArray(Change[]::new);
    }

    @Test
    void changesWrittenBeforeAddDropAndRetypeColumnApplyAfterIt() throws Exception {
        TestDb db = TestDb.create(pg, "acrossddl");
        db.exec("CREATE TABLE t (id text PRIMARY KEY, v text, gone text, n int)",
                "INSERT INTO t VALUES ('old1', 'o', 'g', 1), ('old2', 'o', 'g', 2)");
        Relation before = relation("t", "id", "v", "gone", "n");
        Change[] inFlight = throughTheLog(insert(before, "new1", "a", "x", "5000000"),
                update(before, "old1", "changed", "y", "6"), delete(before, "old2"));
        Units.Recorder rec = new Units.Recorder();
        try (Applier applier = new Applier(db.config().build(), rec)) {
            applier.submit(remote(1, "node3", ddl("ALTER TABLE t DROP COLUMN gone")));
            applier.submit(remote(2, "node3", ddl("ALTER TABLE t ADD COLUMN added int DEFAULT 7")));
            applier.submit(remote(3, "node3", ddl("ALTER TABLE t ALTER COLUMN n TYPE bigint")));
            applier.submit(remote(4, "node2", inFlight));
            applier.awaitApplied(Gsn.of(4), TestDb.WAIT);
            assertThat(applier.failure()).isNull();
        }
        assertThat(db.column("SELECT id || ' ' || v || ' ' || n || ' ' || added FROM t ORDER BY id"))
                .containsExactly("new1 a 5000000 7", "old1 changed 6 7");
        assertThat(db.column("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 't'::regclass "
                + "AND attnum > 0 AND NOT attisdropped ORDER BY attnum")).containsExactly("text", "text", "bigint", "integer");
    }
}
