package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The changesets replayed at a restart wait for the pending-row rebuild in a spill file ({@link ReplaySpill}): the
 * tracker rebuilt from it behaves as one rebuilt from the verdicts in memory, and the replay of a log far larger than
 * the heap holds none of its changesets.
 */
class ReplaySpillTest {
    private static final Relation REL = new Relation(ReplayScenario.T, 'f', List.of(new Column("id", true, 20, -1),
            new Column("v", false, 25, -1)));
    private final WireCodec codec = new WireCodec();

    @TempDir
    Path dir;

    private Delivery delivery(Certifier certifier, Gsn upTo, Path spill) {
        return new Delivery(ReplayScenario.SELF, "db", codec, certifier, new ReentrantLock(), () -> { }, unit -> { },
                (cs, gsn) -> { }, Gsn.NONE, upTo, Map.of(), new DdlOrder(ReplayScenario.SELF, () -> null), spill);
    }

    @Test
    void aTrackerRebuiltFromTheSpillBehavesAsOneRebuiltFromMemory() throws Exception {
        int records = 3_000;
        ReplayScenario log = new ReplayScenario(7, 2_000, codec);
        Certifier inMemory = new Certifier(CertifierConfig.defaults());
        Certifier spilled = new Certifier(CertifierConfig.defaults());
        Path file = dir.resolve("db").resolve("replay-spill").resolve("verdicts.spill");
        Delivery d = delivery(spilled, Gsn.of(records), file);
        List<Verdict> verdicts = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            ReplayScenario.Record r = log.next();
            verdicts.add(inMemory.certify(r.gsn(), r.changeSet()));
            d.deliver(r.gsn(), r.payload());
        }
        List<ChangeSet> undelivered = log.undelivered(40);
        PendingTracker expected = PendingTracker.rebuild(ReplayScenario.SELF, Gsn.of(1), verdicts, undelivered);
        PendingTracker actual = PendingTracker.rebuild(ReplayScenario.SELF, Gsn.of(1), d.replayedVerdicts(),
                undelivered);
        assertThat(Files.size(file)).as("the spill holds the replayed changesets").isGreaterThan(records * 2_000L);
        d.goLive(actual);
        assertThat(file).as("deleted once live").doesNotExist();

        assertThat(actual.pendingCount()).isEqualTo(expected.pendingCount()).isEqualTo(undelivered.size());
        assertThat(actual.pendingRowCount()).isEqualTo(expected.pendingRowCount());
        assertThat(actual.minPendingDeps()).isEqualTo(expected.minPendingDeps());
        // a winner on every row: the same rows rolled back to the same versions (pending sets, dooms and bases)
        long gsn = records;
        int restored = 0;
        for (int row = 0; row < 5_010; row++) {
            Verdict w = inMemory.certify(Gsn.of(++gsn), winner(row, log.last().value() + row));
            assertThat(spilled.certify(w.gsn(), w.changeSet())).isEqualTo(w);
            List<RestoreRow> want = expected.onRemoteWinner(w);
            assertThat(actual.onRemoteWinner(w)).as("restores of the winner on row %d", row).isEqualTo(want);
            restored += want.size();
        }
        System.out.printf("%d pending changesets, %d rows; the winners rolled back %d rows%n", expected.pendingCount(),
                expected.pendingRowCount(), restored);
        assertThat(restored).as("the winners must roll pending rows back to be worth anything").isGreaterThan(20);
        // the pending changesets are delivered: both trackers' dooms match the certifier's losers
        for (ChangeSet cs : undelivered) {
            Verdict v = inMemory.certify(Gsn.of(++gsn), cs);
            expected.onOwnDelivered(v);
            actual.onOwnDelivered(v);
        }
        assertThat(actual.pendingCount()).isEqualTo(expected.pendingCount()).isZero();
    }

    private ChangeSet winner(int row, long lsn) {
        String id = Integer.toString(row);
        RowChange rc = new RowChange(REL, Op.UPDATE, Tuple.ofTexts(id, "winner"), Tuple.ofTexts(id, "old"), false,
                List.of(new Key(KeyKind.WRITE, ReplayScenario.T, "t_pkey", List.of(id))));
        return new ChangeSet(new Gtid(NodeId.of("b"), Lsn.of(lsn + 1_000_000)), lsn, Instant.EPOCH,
                Gsn.of(lsn), List.of(rc));
    }

    @Test
    void aSpillThatCannotBeWrittenNamesTheFile() throws Exception {
        Files.writeString(dir.resolve("plain"), "a file where the spill folder goes");
        Path under = dir.resolve("plain").resolve("verdicts.spill");
        assertThatThrownBy(() -> ReplaySpill.open(under, codec, ReplayScenario.SELF))
                .isInstanceOf(ChorusException.class).hasMessageContaining(under.toString());
        Path file = dir.resolve("replay-spill").resolve("verdicts.spill");
        ReplaySpill spill = ReplaySpill.open(file, codec, ReplayScenario.SELF);
        Files.createDirectories(file); // the file cannot be opened for writing, as on a full or read-only disk
        ReplayScenario.Record r = new ReplayScenario(1, 100, codec).next();
        Verdict v = new Certifier(CertifierConfig.defaults()).certify(r.gsn(), r.changeSet());
        assertThatThrownBy(() -> spill.add(v, r.payload())).isInstanceOf(ChorusException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("GSN 1").hasMessageContaining("disk full");
    }

    /**
     * 20,000 changesets of 20 kB (400 MB) from three origins, the restarting node's own ones in flight throughout (the
     * rebuild starts at the start of the log), replayed and rebuilt in a child JVM with a 64 MB heap; the heap in use
     * after the replay stays under 24 MB. A list of the verdicts ran out of a 96 MB heap, and so did the rebuild from
     * the spill while the tracker kept every winner of the replay until its end.
     */
    @Test
    void aReplayOfFourHundredMegabytesRebuildsInASixtyFourMegabyteHeap() throws Exception {
        String out = child("-Xmx64m", 20_000, 20_000, "spill");
        System.out.println("child JVM (-Xmx64m) output:\n" + out);
        long used = Long.parseLong(out.replaceAll("(?s).*usedAfterReplay=(\\d+).*", "$1"));
        long logBytes = Long.parseLong(out.replaceAll("(?s).*logBytes=(\\d+).*", "$1"));
        assertThat(logBytes).isGreaterThan(400_000_000L);
        assertThat(used).as("heap in use after the replay").isLessThan(24L << 20);
        assertThat(out).containsPattern("rebuilt pending=5 rows=\\d+");
    }

    private String child(String xmx, int records, int size, String mode) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path output = dir.resolve("child-" + mode + ".log");
        Process p = new ProcessBuilder(List.of(java, xmx, "-cp", System.getProperty("java.class.path"),
                ReplaySpillChild.class.getName(), dir.toString(), Integer.toString(records), Integer.toString(size),
                mode)).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        boolean finished = p.waitFor(5, TimeUnit.MINUTES);
        if (!finished) {
            p.destroyForcibly();
        }
        String out = Files.readString(output, StandardCharsets.UTF_8);
        assertThat(finished).as("child finished within 5 min; output:\n" + out).isTrue();
        assertThat(p.exitValue()).as("child exit code; output:\n" + out).isZero();
        return out;
    }
}
