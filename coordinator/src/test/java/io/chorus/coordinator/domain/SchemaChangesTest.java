package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Change;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.NodeId;
import io.chorus.coordinator.apply.ApplyUnit;
import java.time.Instant;
import java.util.List;
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
}
