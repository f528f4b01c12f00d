package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/** Records everything a member delivers, for comparison across members; thread-safe. */
final class RecordingListener implements GroupListener {

    /** One delivered record, with its payload as text. */
    record Delivery(long gsn, String origin, long seq, String payload) {
    }

    private final List<Delivery> deliveries = new ArrayList<>();
    private final List<Membership> memberships = new ArrayList<>();
    private final List<String> transfers = new ArrayList<>();
    /** While set, deliveries wait for it (a consumer that stopped consuming); null = open. */
    private volatile java.util.concurrent.CountDownLatch gate;

    /** Runs on the delivery thread before each delivery is recorded. */
    private volatile java.util.function.Consumer<Gsn> onDelivery = g -> { };

    void onDelivery(java.util.function.Consumer<Gsn> hook) {
        onDelivery = hook;
    }

    /** From now on, deliveries wait until {@link #release} (at most 120 s each). */
    void hold() {
        gate = new java.util.concurrent.CountDownLatch(1);
    }

    /** Lets held deliveries through. */
    void release() {
        java.util.concurrent.CountDownLatch g = gate;
        gate = null;
        if (g != null) {
            g.countDown();
        }
    }

    @Override
    public void onDelivered(Gsn gsn, NodeId origin, long originSeq, byte[] payload) {
        java.util.concurrent.CountDownLatch g = gate;
        if (g != null) {
            try {
                g.await(120, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        onDelivery.accept(gsn);
        synchronized (this) {
            deliveries.add(new Delivery(gsn.value(), origin.value(), originSeq, new String(payload,
                    java.nio.charset.StandardCharsets.UTF_8)));
            notifyAll();
        }
    }

    @Override
    public synchronized void onMembership(Membership m) {
        memberships.add(m);
        notifyAll();
    }

    @Override
    public synchronized void onFullTransferNeeded(String reason) {
        transfers.add(reason);
        notifyAll();
    }

    synchronized List<Delivery> deliveries() {
        return List.copyOf(deliveries);
    }

    synchronized int size() {
        return deliveries.size();
    }

    synchronized long lastGsn() {
        return deliveries.isEmpty() ? 0 : deliveries.get(deliveries.size() - 1).gsn();
    }

    synchronized List<String> transfers() {
        return List.copyOf(transfers);
    }

    synchronized List<Membership> memberships() {
        return List.copyOf(memberships);
    }

    /** Waits until {@code condition} holds, at most {@code timeout}; fails naming {@code what}. */
    synchronized void await(BooleanSupplier condition, Duration timeout, String what) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what + " (delivered "
                        + deliveries.size() + ", last GSN " + lastGsn() + ")");
            }
            java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, Math.min(left, 50_000_000L));
        }
    }

    void awaitGsn(long gsn, Duration timeout) throws InterruptedException {
        await(() -> lastGsn() >= gsn, timeout, "GSN " + gsn);
    }
}
