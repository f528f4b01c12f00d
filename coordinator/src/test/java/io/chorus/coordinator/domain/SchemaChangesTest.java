package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.RelationName;
import io.chorus.coordinator.apply.ApplyGuard;
import io.chorus.coordinator.apply.ApplyUnit;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SchemaChangesTest {
    private static ApplyUnit unit(long gsn, boolean local, Change... changes) {
        return new ApplyUnit(Gsn.of(gsn), new Gtid(NodeId.of("b"), Lsn.of(gsn)), Instant.EPOCH, local, List.of(),
                List.of(changes), List.of(), List.of());
    }

    @Test
    void theCatalogIsStaleOnceTheHelperCommitOfARemoteDdlIsDecoded() {
        SchemaChanges s = new SchemaChanges();
        MessageChange ddl = new MessageChange("chorus_ddl", "{}".getBytes());
        s.delivered(unit(5, false, new MessageChange("other", new byte[0])));
        s.delivered(unit(7, false, ddl));
        s.delivered(unit(8, true, ddl)); // this node's own DDL: the capture saw it as a local commit already
        s.delivered(unit(9, false, ddl));
        assertThat(s.helperCommitted(Gsn.of(6))).isFalse();
        assertThat(s.helperCommitted(Gsn.of(8))).isTrue();
        assertThat(s.helperCommitted(Gsn.of(8))).as("reported once").isFalse();
        assertThat(s.helperCommitted(Gsn.of(12))).isTrue();
        assertThat(s.helperCommitted(Gsn.of(13))).isFalse();
    }

    private static ChangeSet localDdl(long commitLsn, String json) {
        return new ChangeSet(new Gtid(NodeId.of("a"), Lsn.of(commitLsn)), 1, Instant.EPOCH, Gsn.NONE,
                List.of(new MessageChange("chorus_ddl", json.getBytes(StandardCharsets.UTF_8))));
    }

    private static final String HEAD = "{\"v\":1,\"sql\":\"x\",\"search_path\":\"public\",\"role\":\"r\","
            + "\"tag\":\"ALTER TABLE\",\"relations\":[],\"keyed\":true";

    @Test
    void tablesThisNodeRenamedOrDroppedAreFollowedUntilEveryEarlierGsnCommitted() {
        SchemaChanges s = new SchemaChanges();
        RelationName q = RelationName.of("public", "q");
        RelationName r = RelationName.of("public", "r");
        RelationName t = RelationName.of("other", "t");
        RelationName d = RelationName.of("public", "d");
        s.localDdl(localDdl(100, HEAD + ",\"renamed\":[[\"public\",\"q\"],[\"public\",\"r\"]]}"));
        s.localDdl(localDdl(200, HEAD + ",\"renamed\":[[\"public\",\"r\"],[\"other\",\"t\"]]}"));
        s.localDdl(localDdl(300, HEAD + ",\"dropped\":[[\"public\",\"d\"]]}"));
        s.localDdl(localDdl(400, HEAD + "}"));
        assertThat(s.localMove(q)).as("renamed twice: the change goes to the last name")
                .contains(new ApplyGuard.TableMove(q, Optional.of(t)));
        assertThat(s.localMove(r)).contains(new ApplyGuard.TableMove(r, Optional.of(t)));
        assertThat(s.localMove(d)).contains(new ApplyGuard.TableMove(d, Optional.empty()));
        assertThat(s.localMove(t)).isEmpty();
        s.localDelivered(Lsn.of(100), Gsn.of(10));
        s.localDelivered(Lsn.of(300), Gsn.of(30));
        s.committed(Gsn.of(9));
        assertThat(s.localMove(q)).as("GSNs before the rename may still come").isPresent();
        s.committed(Gsn.of(10));
        assertThat(s.localMove(q)).as("every GSN before the first rename committed").isEmpty();
        assertThat(s.localMove(r)).as("the second rename is not delivered yet").isPresent();
        s.committed(Gsn.of(40));
        assertThat(s.localMove(d)).isEmpty();
        assertThat(s.localMove(r)).isPresent();
    }

    @Test
    void columnsThisNodeRenamedAreFollowedAcrossRenamesUntilEveryEarlierGsnCommitted() {
        SchemaChanges s = new SchemaChanges();
        RelationName c = RelationName.of("public", "c");
        s.localDdl(localDdl(100, HEAD + ",\"columns_renamed\":[[\"public\",\"c\",\"v\",\"w\"]]}"));
        s.localDdl(localDdl(200, HEAD + ",\"columns_renamed\":[[\"public\",\"c\",\"w\",\"x\"],"
                + "[\"public\",\"c\",\"a\",\"b\"]]}"));
        assertThat(s.localColumnRenames(c)).as("v renamed twice: a change written before both names it x")
                .isEqualTo(java.util.Map.of("v", "x", "w", "x", "a", "b"));
        assertThat(s.localColumnRenames(RelationName.of("public", "other"))).isEmpty();
        assertThat(s.localMove(c)).as("a column rename does not move the table").isEmpty();
        s.localDelivered(Lsn.of(100), Gsn.of(10));
        s.localDelivered(Lsn.of(200), Gsn.of(20));
        s.committed(Gsn.of(10));
        assertThat(s.localColumnRenames(c)).as("only the second statement's renames may still meet a change")
                .isEqualTo(java.util.Map.of("w", "x", "a", "b"));
        s.committed(Gsn.of(20));
        assertThat(s.localColumnRenames(c)).isEmpty();
    }
}
