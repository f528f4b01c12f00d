package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.coordinator.apply.XidSnapshot;
import org.junit.jupiter.api.Test;

/** The skip decision of the capture check over crafted snapshots (see {@link HelperXids}). */
class HelperXidsTest {
    private final HelperXids xids = new HelperXids();

    private void helpers(long... ids) {
        for (long x : ids) {
            xids.add(x);
        }
    }

    @Test
    void parsesAndPrintsTheServersSnapshotText() {
        XidSnapshot s = XidSnapshot.parse("100:105:103,101");
        assertThat(s.xmin()).isEqualTo(100);
        assertThat(s.xmax()).isEqualTo(105);
        assertThat(s.isRunning(101)).isTrue();
        assertThat(s.isRunning(102)).isFalse();
        assertThat(s).hasToString("100:105:101,103");
        assertThat(XidSnapshot.parse("7:7:")).isEqualTo(XidSnapshot.of(7, 7));
        assertThat(s.withRunning(104)).isEqualTo(XidSnapshot.of(100, 105, 101, 103, 104));
        assertThat(s.withRunning(105)).as("an id at or above xmax is running anyway").isSameAs(s);
        assertThatThrownBy(() -> XidSnapshot.parse("100:105")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XidSnapshot.parse("100:105:99")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> XidSnapshot.parse("a:105:")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void noReferenceMeansWait() {
        helpers(100, 101);
        assertThat(xids.onlyHelpersSince(XidSnapshot.of(100, 102, 100, 101))).isFalse();
    }

    @Test
    void onlyHelperIdsSinceTheReferenceSkipAndMoveTheReferenceOn() {
        helpers(100, 101, 102, 103);
        xids.confirmed(XidSnapshot.of(100, 101, 100));
        // 100 was running at the reference, 101..102 started after it; 103 runs now: all helpers
        XidSnapshot later = XidSnapshot.of(103, 103 + 1, 103);
        assertThat(xids.onlyHelpersSince(later)).isTrue();
        assertThat(xids.reference()).isEqualTo(later);
        // ids that finished before the new reference are forgotten; the running one is kept
        assertThat(xids.size()).isEqualTo(1);
        helpers(104);
        assertThat(xids.onlyHelpersSince(XidSnapshot.of(104, 105, 104))).as("induction: the skip was a reference")
                .isTrue();
    }

    @Test
    void anUnknownIdThatFinishedInBetweenMeansWait() {
        helpers(100, 102);
        xids.confirmed(XidSnapshot.of(100, 100));
        // 101 (a local writer) committed between the reference and this check
        assertThat(xids.onlyHelpersSince(XidSnapshot.of(102, 103, 102))).isFalse();
        assertThat(xids.reference()).as("a check that has to wait is no reference until it returns")
                .isEqualTo(XidSnapshot.of(100, 100));
    }

    @Test
    void anUnknownIdRunningNowMeansWait() {
        helpers(100, 101);
        xids.confirmed(XidSnapshot.of(100, 100));
        // 102 (a local transaction) is in progress now: it may commit before this helper's locks (it is not listed
        // once it has), and it will not be known as finished at any later reference taken before it ends
        assertThat(xids.onlyHelpersSince(XidSnapshot.of(100, 103, 100, 102))).isFalse();
    }

    @Test
    void anUnknownIdRunningAtTheReferenceMeansWaitEvenIfItIsNotListedNow() {
        helpers(101, 102);
        xids.confirmed(XidSnapshot.of(100, 101, 100));
        // 100 (a local transaction) was running at the reference and has committed since
        assertThat(xids.onlyHelpersSince(XidSnapshot.of(102, 103, 102))).isFalse();
        // once a check waited past it, later checks skip again
        xids.confirmed(XidSnapshot.of(102, 103, 102));
        assertThat(xids.onlyHelpersSince(XidSnapshot.of(102, 103, 102))).isTrue();
    }

    @Test
    void aSubtransactionIdInTheGapMeansWait() {
        // a helper's careful mode writes under savepoints: the subtransaction ids are nobody's top-level id
        helpers(100, 102);
        xids.confirmed(XidSnapshot.of(100, 100));
        assertThat(xids.onlyHelpersSince(XidSnapshot.of(103, 103))).as("101 is unknown").isFalse();
    }

    @Test
    void anOlderSnapshotThanTheReferenceNeedsOnlyItsRunningIdsKnown() {
        helpers(100, 101, 102, 103);
        xids.confirmed(XidSnapshot.of(102, 104, 102, 103));
        assertThat(xids.size()).isEqualTo(2);
        // a helper that took its snapshot before the reference: ids 100..101 are forgotten, so it waits (safe)
        assertThat(xids.onlyHelpersSince(XidSnapshot.of(100, 102, 100, 101))).isFalse();
        // the same age, listing only running helpers: it skips and does not replace the newer reference
        assertThat(xids.onlyHelpersSince(XidSnapshot.of(102, 103, 102))).isTrue();
        assertThat(xids.reference()).isEqualTo(XidSnapshot.of(102, 104, 102, 103));
    }

    @Test
    void aRangeTooLongToScanMeansWait() {
        helpers(100);
        xids.confirmed(XidSnapshot.of(100, 100));
        assertThat(xids.onlyHelpersSince(XidSnapshot.of(100 + HelperXids.MAX_SCAN + 1,
                100 + HelperXids.MAX_SCAN + 1))).isFalse();
    }

    @Test
    void anIdRegisteredAfterItFinishedAtTheReferenceIsNotKept() {
        xids.confirmed(XidSnapshot.of(100, 105, 101));
        helpers(102, 101, 105);
        assertThat(xids.size()).as("102 had finished at the reference; 101 was running; 105 came after").isEqualTo(2);
    }
}
