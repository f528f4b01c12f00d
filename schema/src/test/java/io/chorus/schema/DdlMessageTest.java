package io.chorus.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Column;
import io.chorus.changeset.Key;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DdlMessageTest {
    private static MessageChange message(String json) {
        return new MessageChange(DdlMessage.PREFIX, json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void decodesWhatTheEventTriggerEmits() {
        DdlMessage m = DdlMessage.of(message("{\"v\": 1, \"sql\": \"ALTER TABLE t RENAME TO u\", \"search_path\": "
                + "\"\\\"$user\\\", public\", \"role\": \"app\", \"tag\": \"ALTER TABLE\", \"relations\": "
                + "[[\"public\", \"u\"], [\"public\", \"t\"]]}"));
        assertThat(m.sql()).contains("ALTER TABLE t RENAME TO u");
        assertThat(m.searchPath()).isEqualTo("\"$user\", public");
        assertThat(m.role()).isEqualTo("app");
        assertThat(m.tableKeys()).containsExactly(Key.table(RelationName.of("public", "u")),
                Key.table(RelationName.of("public", "t")));
        assertThat(DdlMessage.isDdl(message("{}"))).isTrue();
        assertThat(DdlMessage.isDdl(new MessageChange("other", new byte[0]))).isFalse();
    }

    @Test
    void aDdlThatAbsorbsOldChangesHasNoKeys() {
        DdlMessage m = DdlMessage.of(message("{\"v\":1,\"sql\":\"ALTER TABLE t ADD COLUMN c int\",\"search_path\":\"public\","
                + "\"role\":\"r\",\"tag\":\"ALTER TABLE\",\"relations\":[[\"public\",\"t\"]],\"keyed\":false}"));
        assertThat(m.relations()).containsExactly(RelationName.of("public", "t"));
        assertThat(m.tableKeys()).isEmpty();
    }

    @Test
    void theIntentAStatementWasOrderedUnderIsDecodedAndOptional() {
        String json = "{\"v\":1,\"sql\":\"ALTER TABLE t ADD COLUMN c int\",\"search_path\":\"public\",\"role\":\"r\","
                + "\"tag\":\"ALTER TABLE\",\"relations\":[[\"public\",\"t\"]],\"keyed\":false";
        assertThat(DdlMessage.of(message(json + ",\"intent\":\"7c1e\"}")).intent()).contains("7c1e");
        assertThat(DdlMessage.of(message(json + "}")).intent()).as("messages of version 2 surfaces").isEmpty();
    }

    @Test
    void aRelationsOnlyMessageRunsNothing() {
        DdlMessage m = DdlMessage.of(message("{\"v\":1,\"sql\":null,\"search_path\":\"public\",\"role\":\"r\","
                + "\"tag\":\"CREATE INDEX\",\"relations\":[[\"s\",\"x\"]]}"));
        assertThat(m.sql()).isEmpty();
        assertThat(m.statementForTransaction()).isEmpty();
    }

    @Test
    void concurrentlyIsDroppedOnlyWhereItCannotRunInATransaction() {
        assertThat(withSql("create unique index  CONCURRENTLY i on t(a)")).contains("create unique index i on t(a)");
        assertThat(withSql("DROP INDEX CONCURRENTLY IF EXISTS i")).contains("DROP INDEX IF EXISTS i");
        assertThat(withSql("REINDEX (VERBOSE) TABLE CONCURRENTLY t")).contains("REINDEX (VERBOSE) TABLE t");
        assertThat(withSql("COMMENT ON TABLE t IS 'build concurrently'")).contains("COMMENT ON TABLE t IS 'build concurrently'");
    }

    private static Optional<String> withSql(String sql) {
        return new DdlMessage(Optional.of(sql), "public", "r", "X", List.of(), true).statementForTransaction();
    }

    @Test
    void aMessageOfAnotherVersionIsRefusedNamingTheFix() {
        assertThatThrownBy(() -> DdlMessage.of(message("{\"v\":2}"))).isInstanceOf(ChorusException.class)
                .hasMessageContaining("version 2, expected 1").hasMessageContaining("same Chorus version");
        assertThatThrownBy(() -> DdlMessage.of(message("not json"))).isInstanceOf(ChorusException.class)
                .hasMessageContaining("malformed chorus_ddl message");
    }

    @Test
    void aChangeWrittenBeforeADropColumnLosesOnlyThatColumn() {
        Relation rel = new Relation(RelationName.of("public", "t"), 'f', List.of(new Column("id", true, 23, -1),
                new Column("gone", false, 25, -1), new Column("v", false, 25, -1)));
        RowChange rc = new RowChange(rel, Op.INSERT, Tuple.ofTexts("1", "x", "y"), null, false, List.of());
        RowChange fitted = DdlRunner.withExistingColumns(rc, Set.of("id", "v", "added"));
        assertThat(fitted.relation().columns()).extracting(Column::name).containsExactly("id", "v");
        assertThat(fitted.newTuple()).isEqualTo(Tuple.ofTexts("1", "y"));
        assertThat(DdlRunner.withExistingColumns(rc, Set.of("id", "gone", "v"))).isSameAs(rc);
        assertThat(DdlRunner.withExistingColumns(rc, Set.of())).as("unknown table: left alone").isSameAs(rc);
    }
}
