package io.chorus.coordinator.certify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Gtid;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.Op;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import io.chorus.coordinator.apply.ConflictRow;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The certifier alone: purge horizon, window, uncertifiable changesets, TABLE keys, rebuild after a restart. */
class CertifierTest {
    private static final NodeId A = NodeId.of("a");
    private static final NodeId B = NodeId.of("b");
    private static final NodeId C = NodeId.of("c");
    private static long lsn;

    private static RowChange insertP(String pk) {
        Tuple t = Tuple.ofTexts(pk, "0", null);
        return new RowChange(SimSchema.P_REL, Op.INSERT, t, null, false, SimSchema.keys("p", Op.INSERT, null, t));
    }

    private static ChangeSet cs(NodeId origin, long deps, Change... changes) {
        return new ChangeSet(new Gtid(origin, Lsn.of(++lsn)), lsn, Instant.EPOCH, Gsn.of(deps), List.of(changes));
    }

    @Test
    void watermarksOfEveryKnownMemberMoveTheLowMarkAndOldDepsBecomeUncertifiable() {
        Certifier c = new Certifier(CertifierConfig.defaults());
        c.onMembers(Set.of(A, B, C));
        c.certify(Gsn.of(1), cs(A, 0, insertP("1")));
        c.certify(Gsn.of(2), cs(B, 1, insertP("2")));
        c.onWatermark(A, Gsn.of(2));
        c.onWatermark(B, Gsn.of(2));
        assertThat(c.lowMark()).as("c has not reported: nothing is purged").isEqualTo(Gsn.NONE);
        assertThat(c.indexSize()).isEqualTo(2);
        c.onWatermark(C, Gsn.of(1));
        assertThat(c.lowMark()).isEqualTo(Gsn.of(1));
        assertThat(c.indexSize()).isEqualTo(1);

        Verdict v = c.certify(Gsn.of(3), cs(C, 0, insertP("3"), new TruncateChange(List.of(SimSchema.D), false,
                false)));
        assertThat(v.uncertifiable()).isTrue();
        assertThat(v.lostIndexes()).containsExactly(0, 1);
        assertThat(v.conflictRows()).containsExactly(
                new ConflictRow(3, 0, "uncertifiable", "c", 0, "", "public.p", "WRITE:public.p/pkey[3]", 3),
                new ConflictRow(3, 1, "uncertifiable", "c", 0, "", "public.d", "TABLE:public.d", 3));
        assertThat(v.appliedKeys()).isEmpty();
    }

    @Test
    void theWindowBoundsTheIndexWhateverTheWatermarksSay() {
        Certifier c = new Certifier(new CertifierConfig(2));
        c.onMembers(Set.of(A, B));
        for (int g = 1; g <= 5; g++) {
            c.certify(Gsn.of(g), cs(A, g - 1, insertP(String.valueOf(g))));
        }
        assertThat(c.lowMark()).isEqualTo(Gsn.of(3));
        assertThat(c.indexSize()).isEqualTo(2);
        assertThat(c.certify(Gsn.of(6), cs(B, 2, insertP("9"))).uncertifiable()).isTrue();
        Verdict ok = c.certify(Gsn.of(7), cs(B, 4, insertP("5")));
        assertThat(ok.uncertifiable()).isFalse();
        assertThat(ok.conflictRows()).extracting(ConflictRow::kind, ConflictRow::winnerGsn)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("insert_insert", 5L));
    }

    @Test
    void aTableKeyMeetsEveryRowOfItsRelationOnly() {
        Certifier c = new Certifier(CertifierConfig.defaults());
        c.certify(Gsn.of(1), cs(A, 0, new TruncateChange(List.of(SimSchema.P), false, false)));
        Tuple d = Tuple.ofTexts("1", "0", "x");
        RowChange insertD = new RowChange(SimSchema.D_REL, Op.INSERT, d, null, false,
                SimSchema.keys("d", Op.INSERT, null, d));
        Verdict v = c.certify(Gsn.of(2), cs(B, 0, insertP("1"), insertD));
        assertThat(v.lostIndexes()).as("a transaction loses as a whole").containsExactly(0, 1);
        assertThat(v.conflicts()).extracting(Conflict::kind).containsExactly("truncate_insert", Conflict.TRANSACTION);
        Verdict other = c.certify(Gsn.of(3), cs(B, 2, insertD));
        assertThat(other.lostIndexes()).as("table p's key does not meet a row of d").isEmpty();
        Verdict later = c.certify(Gsn.of(4), cs(C, 0, new TruncateChange(List.of(SimSchema.D), false, false)));
        assertThat(later.conflicts()).extracting(Conflict::kind, Conflict::winnerGsn)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("insert_truncate", Gsn.of(3)));
    }

    @Test
    void outOfOrderDeliveryAndImpossibleDepsAreRefused() {
        Certifier c = new Certifier(CertifierConfig.defaults());
        c.certify(Gsn.of(2), cs(A, 0, insertP("1")));
        assertThatThrownBy(() -> c.certify(Gsn.of(2), cs(B, 0, insertP("2"))))
                .hasMessageContaining("already at GSN 2");
        assertThatThrownBy(() -> c.certify(Gsn.of(3), cs(B, 3, insertP("2"))))
                .hasMessageContaining("has deps 3, not below its own GSN");
        assertThatThrownBy(() -> new CertifierConfig(0)).hasMessageContaining("window must be >= 1");
    }

    /** A certifier resumed at W - window and fed the recorded decisions decides the rest of the log identically. */
    @Test
    void aResumedCertifierTakesTheSameDecisions() {
        long seed = Long.getLong("chorus.sim.seed", System.nanoTime() & 0xFFFF_FFFFL);
        System.out.println("aResumedCertifierTakesTheSameDecisions: 30 logs from seed " + seed
                + " (replay: -Dchorus.sim.seed=" + seed + ")");
        List<Verdict> all = new ArrayList<>();
        for (long s = seed; s < seed + 30; s++) {
            all.addAll(checkResume(s));
        }
        assertThat(all).as("the logs must exercise every decision").anyMatch(Verdict::uncertifiable)
                .anyMatch(v -> !v.conflicts().isEmpty() && !v.uncertifiable())
                .anyMatch(v -> v.conflicts().stream().anyMatch(c -> c.kind().equals(Conflict.DEPENDENCY)));
    }

    private static List<Verdict> checkResume(long seed) {
        Random rng = new Random(seed);
        CertifierConfig cfg = new CertifierConfig(4);
        List<ChangeSet> log = new ArrayList<>();
        long[] lastDeps = new long[3];
        NodeId[] ids = {A, B, C};
        for (int g = 1; g <= 150; g++) {
            int o = rng.nextInt(3);
            lastDeps[o] = Math.max(lastDeps[o], g - 1 - rng.nextInt(Math.min(g, 7)));
            List<Change> changes = new ArrayList<>();
            for (int k = rng.nextInt(3); k >= 0; k--) {
                changes.add(insertP(String.valueOf(rng.nextInt(4))));
            }
            log.add(cs(ids[o], lastDeps[o], changes.toArray(new Change[0])));
        }
        Certifier original = new Certifier(cfg);
        List<Verdict> verdicts = new ArrayList<>();
        for (int g = 1; g <= log.size(); g++) {
            verdicts.add(original.certify(Gsn.of(g), log.get(g - 1)));
        }
        for (int w = 1; w < log.size(); w += 1 + rng.nextInt(9)) {
            Certifier resumed = Certifier.resumingAt(cfg, Gsn.of(Math.max(0, w - cfg.window())));
            for (int g = (int) resumed.lowMark().value() + 1; g <= w; g++) {
                resumed.replayDecided(Gsn.of(g), log.get(g - 1), verdicts.get(g - 1).conflictRows());
            }
            for (int g = w + 1; g <= log.size(); g++) {
                assertThat(resumed.certify(Gsn.of(g), log.get(g - 1)).conflictRows())
                        .as("GSN %d after resuming at W=%d (seed %d)", g, w, seed)
                        .isEqualTo(verdicts.get(g - 1).conflictRows());
            }
        }
        return verdicts;
    }

    @Test
    void keysOfChangesAndClashRules() {
        Key w = SimSchema.key(KeyKind.WRITE, SimSchema.P, "pkey", "1");
        Key r = SimSchema.key(KeyKind.REFERENCE, SimSchema.P, "pkey", "1");
        Key d = SimSchema.key(KeyKind.DELETE, SimSchema.P, "pkey", "1");
        Key other = SimSchema.key(KeyKind.WRITE, SimSchema.P, "pkey", "2");
        assertThat(CertRules.clashes(w, w)).isTrue();
        assertThat(CertRules.clashes(r, w)).isFalse();
        assertThat(CertRules.clashes(r, r)).isFalse();
        assertThat(CertRules.clashes(r, d)).isTrue();
        assertThat(CertRules.clashes(w, other)).isFalse();
        assertThat(CertRules.clashes(Key.table(SimSchema.P), other)).isTrue();
        assertThat(CertRules.clashes(Key.table(SimSchema.C), other)).isFalse();
        assertThat(CertRules.dependsOn(r, w)).as("a REFERENCE depends on a lost WRITE of its parent").isTrue();
        assertThat(CertRules.dependsOn(w, r)).isFalse();
    }

    /** The index stays bounded by the window and a long log is certified quickly (figures printed). */
    @Test
    void aLongLogKeepsTheIndexBoundedAndFast() {
        Certifier c = new Certifier(new CertifierConfig(5_000));
        c.onMembers(Set.of(A, B, C));
        NodeId[] ids = {A, B, C};
        Random rng = new Random(42);
        long lost = 0;
        long t0 = System.nanoTime();
        int n = 100_000;
        for (int g = 1; g <= n; g++) {
            Verdict v = c.certify(Gsn.of(g), cs(ids[g % 3], Math.max(0, g - 1 - rng.nextInt(20)),
                    insertP(String.valueOf(rng.nextInt(50_000))), insertP(String.valueOf(rng.nextInt(50_000)))));
            lost += v.conflicts().size();
            if (g % 1000 == 0) {
                c.onWatermark(ids[rng.nextInt(3)], Gsn.of(g - 100));
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("certified %d changesets (%d lost changes) in %d ms; index %d keys, low mark %s%n", n, lost,
                ms, c.indexSize(), c.lowMark());
        assertThat(c.indexSize()).isLessThanOrEqualTo(2 * 5_000);
        assertThat(c.lowMark().value()).isGreaterThanOrEqualTo(n - 5_000);
        assertThat(lost).isPositive();
    }
}
