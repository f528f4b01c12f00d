package io.chorus.coordinator.domain;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.wire.WireCodec;
import io.chorus.coordinator.certify.Certifier;
import io.chorus.coordinator.certify.CertifierConfig;
import io.chorus.coordinator.certify.Verdict;
import io.chorus.coordinator.pending.PendingTracker;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Child JVM of {@link ReplaySpillTest}: replays a {@link ReplayScenario} log through {@link Delivery} (mode
 * {@code spill}) or into a list of verdicts as the replay kept them before the spill (mode {@code list}), rebuilds
 * the pending rows and prints the heap in use after a GC at each step. Args: folder, records, bytes per changeset,
 * mode.
 */
public final class ReplaySpillChild {
    private ReplaySpillChild() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int records = Integer.parseInt(args[1]);
        int size = Integer.parseInt(args[2]);
        boolean spill = args[3].equals("spill");
        WireCodec codec = new WireCodec();
        ReplayScenario log = new ReplayScenario(42, size, codec);
        Certifier certifier = new Certifier(CertifierConfig.defaults());
        long logBytes = 0;
        long maxUsed = 0;
        PendingTracker tracker;
        if (spill) {
            Delivery d = new Delivery(ReplayScenario.SELF, "db", codec, certifier, new ReentrantLock(), () -> { },
                    unit -> { }, (cs, gsn) -> { }, Gsn.NONE, Gsn.of(records), Map.of(),
                    new DdlOrder(ReplayScenario.SELF, () -> null), dir.resolve("replay-spill").resolve("verdicts.spill"));
            for (int i = 0; i < records; i++) {
                ReplayScenario.Record r = log.next();
                logBytes += r.payload().length;
                d.deliver(r.gsn(), r.payload());
                maxUsed = i % 2_000 == 0 ? Math.max(maxUsed, used()) : maxUsed;
            }
            System.out.printf("replayed records=%d logBytes=%d usedAfterReplay=%d maxUsedDuringReplay=%d "
                    + "spillBytes=%d%n", records, logBytes, used(), maxUsed, ((ReplaySpill) d.replayedVerdicts()).bytes());
            List<ChangeSet> undelivered = log.undelivered(5);
            tracker = PendingTracker.rebuild(ReplayScenario.SELF, Gsn.of(1), d.replayedVerdicts(), undelivered);
            d.goLive(tracker);
        } else {
            List<Verdict> verdicts = new ArrayList<>();
            for (int i = 0; i < records; i++) {
                ReplayScenario.Record r = log.next();
                logBytes += r.payload().length;
                verdicts.add(certifier.certify(r.gsn(), r.changeSet()));
                maxUsed = i % 2_000 == 0 ? Math.max(maxUsed, used()) : maxUsed;
            }
            System.out.printf("replayed records=%d logBytes=%d usedAfterReplay=%d maxUsedDuringReplay=%d%n", records,
                    logBytes, used(), maxUsed);
            tracker = PendingTracker.rebuild(ReplayScenario.SELF, Gsn.of(1), verdicts, log.undelivered(5));
            verdicts.clear();
        }
        System.out.printf("rebuilt pending=%d rows=%d usedAfterRebuild=%d%n", tracker.pendingCount(),
                tracker.pendingRowCount(), used());
    }

    /** Heap in use after a full GC: what the replay retains. */
    private static long used() {
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
