package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.gcs.Group;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The last step of CATCHING_UP: a starting domain replays its own copy of the log without the group, so it is not
 * ONLINE before its deliveries reached the highest W the other present members announce (the group's position when
 * it joined). A node whose log the group compacted past learns it on the way (the leader sends a snapshot: it fails,
 * and restarts with a full transfer) instead of claiming ONLINE first. Blocking, bounded: it gives up waiting for the
 * announcements after {@value #ANNOUNCE_WAIT_MS} ms, and for deliveries once they stopped moving for
 * {@value #STALL_MS} ms (then the domain goes on, saying so), or after {@value #NON_PRIMARY_MS} ms outside a primary
 * component (a leader is elected within that time when a majority is present). Not thread-safe.
 */
final class GroupCatchUp {
    private static final Logger LOG = LogManager.getLogger(GroupCatchUp.class);
    static final long ANNOUNCE_WAIT_MS = 3_000;
    static final long STALL_MS = 60_000;
    static final long NON_PRIMARY_MS = 10_000;

    private GroupCatchUp() {
    }

    /**
     * @param delivered the domain's delivered GSN
     * @param failed    whether the domain failed meanwhile (its error is then thrown)
     * @param phase     receives the progress text for chorus.status()
     */
    static void await(Group group, NodeId self, LongSupplier delivered, BooleanSupplier failed, Consumer<String> phase)
            throws InterruptedException {
        Map.Entry<NodeId, Gsn> target = highestPeer(group, self);
        if (target == null) {
            return;
        }
        long lastSeen = delivered.getAsLong();
        long movedAt = System.nanoTime();
        long primaryAt = movedAt;
        Object tick = new Object();
        while (delivered.getAsLong() < target.getValue().value()) {
            if (failed.getAsBoolean()) {
                throw new ChorusException("failed while catching up with the group (up to GSN " + target.getValue()
                        + ", announced by " + target.getKey() + ")");
            }
            long now = delivered.getAsLong();
            if (now != lastSeen) {
                lastSeen = now;
                movedAt = System.nanoTime();
            }
            boolean primary = group.isPrimary();
            if (primary) {
                primaryAt = System.nanoTime();
            }
            if (System.nanoTime() - primaryAt > TimeUnit.MILLISECONDS.toNanos(NON_PRIMARY_MS)
                    || System.nanoTime() - movedAt > TimeUnit.MILLISECONDS.toNanos(STALL_MS)) {
                LOG.warn("stopped waiting to catch up with the group at GSN {} of {} ({}): {}", now, target.getValue(),
                        target.getKey(), primary ? "no delivery for 60 s" : "outside a primary component for 10 s");
                return;
            }
            phase.accept("catching up with the group: delivered GSN " + now + " of " + target.getValue()
                    + " (the highest W announced, by " + target.getKey() + ")");
            synchronized (tick) {
                TimeUnit.MILLISECONDS.timedWait(tick, 100);
            }
        }
        LOG.info("caught up with the group: delivered GSN {} (highest W announced: {} by {})", delivered.getAsLong(),
                target.getValue(), target.getKey());
    }

    /** The highest W another present member announced, waiting a moment for the announcements; null when alone. */
    private static Map.Entry<NodeId, Gsn> highestPeer(Group group, NodeId self) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ANNOUNCE_WAIT_MS);
        Object tick = new Object();
        while (true) {
            Map<NodeId, Gsn> all = group.announcedWatermarks();
            all.remove(self);
            long present = group.membership().present().stream().filter(n -> !n.equals(self)).count();
            if ((!all.isEmpty() && all.size() >= present) || System.nanoTime() > deadline) {
                return all.entrySet().stream().max(Map.Entry.comparingByValue()).orElse(null);
            }
            synchronized (tick) {
                TimeUnit.MILLISECONDS.timedWait(tick, 50);
            }
        }
    }
}
