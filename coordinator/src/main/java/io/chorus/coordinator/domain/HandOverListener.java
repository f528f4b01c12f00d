package io.chorus.coordinator.domain;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.gcs.GroupListener;
import io.chorus.gcs.Membership;
import java.util.ArrayDeque;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The listener of a full transfer's group membership, which the domain then takes over instead of joining again (a
 * member that joins again after installing the leader's snapshot reloads a log without the entries after it, and
 * the leader sends it another snapshot: another full transfer, for ever). During the transfer every record goes to
 * the transfer and is kept, from the last snapshot on, bounded by {@value #MAX_BYTES} bytes; {@link #handOver} gives
 * the domain's listener the kept records above its replay start, then everything that follows. Thread-safe: the
 * group's delivery thread calls the listener methods, the domain's join calls {@link #handOver}.
 */
final class HandOverListener implements GroupListener {
    private static final Logger LOG = LogManager.getLogger(HandOverListener.class);
    static final long MAX_BYTES = 256L << 20;

    private record Kept(Gsn gsn, NodeId origin, long seq, byte[] payload) {
    }

    private final Consumer<byte[]> transfer;
    private final Consumer<String> skipped;
    private final Consumer<Membership> view;
    private final Object lock = new Object();
    private final ArrayDeque<Kept> kept = new ArrayDeque<>();
    private long keptBytes;
    private boolean overflowed;
    private GroupListener target;
    /** The domain's replay start: records at or below it are not the domain's (guarded by lock). */
    private long handedFrom;

    HandOverListener(Consumer<byte[]> transfer, Consumer<String> skipped, Consumer<Membership> view) {
        this.transfer = transfer;
        this.skipped = skipped;
        this.view = view;
    }

    @Override
    public void onDelivered(Gsn gsn, NodeId origin, long originSeq, byte[] payload) {
        synchronized (lock) {
            if (target != null) {
                if (gsn.value() > handedFrom) {
                    target.onDelivered(gsn, origin, originSeq, payload);
                }
                return;
            }
            transfer.accept(payload);
            if (!overflowed) {
                kept.add(new Kept(gsn, origin, originSeq, payload));
                keptBytes += payload.length;
                if (keptBytes > MAX_BYTES) {
                    overflowed = true;
                    kept.clear();
                    LOG.warn("more than {} MB of records arrived during the transfer: the domain joins the group again "
                            + "instead of taking over this membership", MAX_BYTES >> 20);
                }
            }
        }
    }

    @Override
    public void onMembership(Membership m) {
        synchronized (lock) {
            if (target != null) {
                target.onMembership(m);
                return;
            }
        }
        view.accept(m);
    }

    /** After the hand-over only: before, the transfer's end stores the line its copied data belongs to. */
    @Override
    public void onHistory(io.chorus.gcs.History line) {
        synchronized (lock) {
            if (target != null) {
                target.onHistory(line);
            }
        }
    }

    @Override
    public void onFullTransferNeeded(String reason) {
        synchronized (lock) {
            if (target != null) {
                target.onFullTransferNeeded(reason);
                return;
            }
            kept.clear(); // a gap follows: only what comes after the snapshot can be handed over
            keptBytes = 0;
        }
        skipped.accept(reason);
    }

    /**
     * Hands the membership's deliveries to {@code next}: first the kept records above {@code from}, then the rest.
     * Blocks while {@code next} does. Returns false, handing nothing, when the kept records do not reach down to
     * {@code from + 1} (too many, or a snapshot skipped past it).
     */
    boolean handOver(GroupListener next, Gsn from, Membership now) {
        synchronized (lock) {
            Kept first = kept.peekFirst();
            if (overflowed || (first != null && first.gsn().value() > from.value() + 1)) {
                return false;
            }
            int handed = 0;
            for (Kept k : kept) {
                if (k.gsn().isAfter(from)) {
                    next.onDelivered(k.gsn(), k.origin(), k.seq(), k.payload());
                    handed++;
                }
            }
            LOG.info("the transfer's group membership goes to the domain with {} record(s) above GSN {}", handed, from);
            kept.clear();
            handedFrom = from.value();
            target = next;
            next.onMembership(now);
            return true;
        }
    }
}
