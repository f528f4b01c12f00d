package io.chorus.changeset.capture;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.capture.CaptureConfig.SlotMode;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Child JVM of {@link LargeTransactionIT}: decodes one transaction from an existing slot with a small spill threshold
 * and reads every change inside the callback. Prints {@code rows=.. textBytes=.. inOrder=.. peakHeapMB=..}.
 * Args: jdbcUrl database slot workDir expectedRows.
 */
public final class LargeTransactionChild {
    private LargeTransactionChild() {
    }

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String db = args[1];
        int expected = Integer.parseInt(args[4]);
        long[] rows = new long[1];
        long[] textBytes = new long[1];
        boolean[] inOrder = {true};
        CountDownLatch done = new CountDownLatch(1);
        CaptureListener listener = new CaptureListener() {
            @Override
            public void onLocalChangeSet(ChangeSet cs) {
                for (Change c : cs.changes()) {
                    RowChange r = (RowChange) c;
                    rows[0]++;
                    inOrder[0] &= Long.parseLong(r.newTuple().text(0)) == rows[0];
                    textBytes[0] += r.newTuple().text(1).length();
                }
                done.countDown();
            }

            @Override
            public void onHelperCommit(String originName, Gsn appliedGsn, Lsn commitLsn) {
            }
        };
        CaptureConfig cfg = CaptureConfig.of(url, db, NodeId.of("big"), Path.of(args[3]))
                .withSlot(args[2], SlotMode.EXISTING).withSpillThreshold(16L << 20);
        try (SlotCapture cap = new SlotCapture(cfg, listener)) {
            cap.start();
            if (!done.await(15, TimeUnit.MINUTES)) {
                System.out.println("timed out after 15 min waiting for the large transaction; failure " + cap.failure());
                System.exit(2);
            }
        }
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        System.out.printf("rows=%d textBytes=%d inOrder=%b peakHeapMB=%d maxHeapMB=%d%n", rows[0], textBytes[0], inOrder[0],
                peak >> 20, Runtime.getRuntime().maxMemory() >> 20);
        System.exit(rows[0] == expected && inOrder[0] ? 0 : 1);
    }
}
