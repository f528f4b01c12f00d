package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;
import io.chorus.changeset.wire.WireCodec;
import io.chorus.coordinator.apply.RestoreRow;
import io.chorus.coordinator.certify.Certifier;
import io.chorus.coordinator.certify.CertifierConfig;
import io.chorus.coordinator.certify.Verdict;
import io.chorus.coordinator.pending.PendingTracker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sync mode's durable copy of the own changesets released from the slot at their delivery ({@link OwnReleases}): what
 * a restart gets back from it, and that the pending rows rebuilt with those copies are the live node's.
 */
class OwnReleasesTest {
    private static final NodeId SELF = ReplayScenario.SELF;
    private static final NodeId OTHER = NodeId.of("b");
    private static final Relation REL = new Relation(ReplayScenario.T, 'f', List.of(new Column("id", true, 20, -1),
            new Column("v", false, 25, -1)));
    private final WireCodec codec = new WireCodec();

    @TempDir
    Path dir;

    private static ChangeSet insert(NodeId origin, long lsn, long deps, String id, String v) {
        RowChange rc = new RowChange(REL, Op.INSERT, Tuple.ofTexts(id, v), null, false,
                List.of(new Key(KeyKind.WRITE, ReplayScenario.T, "t_pkey", List.of(id))));
        return new ChangeSet(new Gtid(origin, Lsn.of(lsn)), lsn, Instant.EPOCH, Gsn.of(deps), List.of(rc));
    }

    @Test
    void aRestartGetsBackTheCopiesAboveItsWatermarkUntilTheyAreApplied() throws Exception {
        Path file = dir.resolve("own-releases").resolve("released.log");
        ChangeSet a = insert(SELF, 100, 0, "1", "a");
        ChangeSet b = insert(SELF, 200, 1, "2", "b");
        ChangeSet c = insert(SELF, 300, 1, "3", "c");
        try (OwnReleases r = OwnReleases.open(file, codec, SELF, Gsn.NONE)) {
            assertThat(r.kept()).isEmpty();
            r.add(Gsn.of(2), a);
            r.add(Gsn.of(4), b);
            r.add(Gsn.of(5), c);
        }
        Files.write(file, new byte[] {0, 0, 0, 0, 0, 0, 0, 9, 0, 0}, StandardOpenOption.APPEND); // a torn write
        try (OwnReleases r = OwnReleases.open(file, codec, SELF, Gsn.of(3))) {
            assertThat(r.kept()).as("above W=3, in GSN order; the torn record was never released")
                    .containsExactly(b, c);
            r.add(Gsn.of(4), b); // delivered again after the restart: the first copy stands
            r.applied(Gsn.of(4));
        }
        try (OwnReleases r = OwnReleases.open(file, codec, SELF, Gsn.of(4))) {
            assertThat(r.kept()).as("GSN 4 applied: W=4").containsExactly(c);
            r.applied(Gsn.of(5));
            assertThat(Files.size(file)).as("emptied once every copy is applied").isZero();
        }
        OwnReleases.discard(file);
        assertThat(file).doesNotExist();
    }

    /**
     * Node a's insert (GSN 2) loses to b's insert of the same key (GSN 1, deps 0): live, a held it pending and rolled
     * its row back in GSN 1's helper transaction. Killed after GSN 2 released it and before GSN 1 was applied, a restarts
     * at W=0 without it in the slot: rebuilt with its copy, the tracker rolls it back at GSN 1 as live, and GSN 2 finds
     * it oldest pending with the certifier's loss; rebuilt without it, GSN 2 stops the node.
     */
    @Test
    void theRebuildWithTheCopiesHoldsWhatTheLiveNodeHeld() throws Exception {
        ChangeSet own = insert(SELF, 100, 0, "1", "mine");
        ChangeSet winner = insert(OTHER, 50, 0, "1", "theirs");
        Path file = dir.resolve("released.log");
        try (OwnReleases r = OwnReleases.open(file, codec, SELF, Gsn.NONE)) {
            r.add(Gsn.of(2), own);
        }

        PendingTracker live = new PendingTracker(SELF);
        live.addLocal(own);
        Certifier liveCert = new Certifier(CertifierConfig.defaults());
        List<RestoreRow> liveRestores = live.onRemoteWinner(liveCert.certify(Gsn.of(1), winner));
        Verdict liveOwn = liveCert.certify(Gsn.of(2), own);
        live.onOwnDelivered(liveOwn);
        assertThat(liveOwn.lostIndexes()).containsExactly(0);
        assertThat(liveRestores).hasSize(1);

        List<ChangeSet> copies;
        try (OwnReleases r = OwnReleases.open(file, codec, SELF, Gsn.NONE)) {
            copies = r.kept();
        }
        PendingTracker rebuilt = PendingTracker.rebuild(SELF, Gsn.of(1), List.of(), copies);
        assertThat(rebuilt.pendingCount()).isEqualTo(1);
        Certifier cert = new Certifier(CertifierConfig.defaults());
        List<RestoreRow> restores = rebuilt.onRemoteWinner(cert.certify(Gsn.of(1), winner));
        assertThat(RestoreRow.describe(restores)).isEqualTo(RestoreRow.describe(liveRestores));
        rebuilt.onOwnDelivered(cert.certify(Gsn.of(2), own));
        assertThat(rebuilt.pendingCount()).isZero();

        PendingTracker without = PendingTracker.rebuild(SELF, Gsn.of(1), List.of(), List.of());
        Certifier again = new Certifier(CertifierConfig.defaults());
        assertThat(without.onRemoteWinner(again.certify(Gsn.of(1), winner))).as("no rollback without the copy").isEmpty();
        Verdict ownAgain = again.certify(Gsn.of(2), own);
        assertThatThrownBy(() -> without.onOwnDelivered(ownAgain)).hasMessageContaining("oldest pending changeset is none");
    }
}
