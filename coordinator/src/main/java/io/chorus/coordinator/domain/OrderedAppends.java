package io.chorus.coordinator.domain;

import java.util.ArrayDeque;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The one way this node's records reach its {@link Appender}: local changesets, read barriers
 * ({@code chorus.sync_wait()}), DDL intents and releases, watermarks, a donor's records. The capture starts before
 * the group join and the appender exists only once the join completed, so a record that comes earlier is held here
 * and handed over, in arrival order and ahead of any later record, when the domain {@link #open opens} the appends.
 *
 * <p>Why the order matters: the group drops an origin's record whose commit LSN is not above the last one it
 * delivered from that origin, so a later commit appended before an earlier one would lose the earlier one; and a read
 * barrier must follow every local commit captured before it. Held records are encoded only when they are handed over
 * (the changesets are kept by the pending-row tracker anyway).
 *
 * <p>Thread-safe: one lock orders every submission and the opening; {@link #submit} blocks while the appender holds
 * its caller back (flow control), and other submitters wait behind it. Once {@link #close closed}, records are no
 * longer appended: each one refused is logged (the slot re-emits the local commits at the next start; a waiting
 * {@code chorus.sync_wait()} times out naming the barrier).
 */
final class OrderedAppends {
    private static final Logger LOG = LogManager.getLogger(OrderedAppends.class);
    private final String database;
    private final ReentrantLock lock = new ReentrantLock();
    /** Records submitted before the appender existed, oldest first (guarded by lock). */
    private final ArrayDeque<Supplier<Appender.Item>> held = new ArrayDeque<>();
    private Appender target; // guarded by lock
    private boolean closed; // guarded by lock

    OrderedAppends(String database) {
        this.database = database;
    }

    /**
     * Appends a record behind every record submitted before it; holds it while the appends are not open yet.
     *
     * @param what   names the record in a log line if it is refused
     * @param record encodes the record (called once, on the submitting thread or at {@link #open})
     * @throws io.chorus.changeset.ChorusException from {@link Appender#submit} (the record cannot be spilled)
     */
    void submit(String what, Supplier<Appender.Item> record) throws InterruptedException {
        lock.lock();
        try {
            if (closed) {
                LOG.info("domain {} closed: {} is not appended to the group", database, what);
            } else if (target == null) {
                held.addLast(record);
            } else {
                target.submit(record.get());
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Opens the appends: the held records go to {@code appender} first, in the order they came, then every later
     * one. Returns how many were held. Once only; a closed instance hands nothing over.
     */
    int open(Appender appender) throws InterruptedException {
        lock.lock();
        try {
            if (target != null) {
                throw new IllegalStateException("the appends of domain " + database + " are open already");
            }
            if (closed) {
                return 0;
            }
            int n = held.size();
            Supplier<Appender.Item> next;
            while ((next = held.peekFirst()) != null) {
                appender.submit(next.get());
                held.removeFirst(); // only once queued: an interrupted open leaves the rest held, in order
            }
            target = appender;
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** Records held while the appends are not open. */
    int held() {
        lock.lock();
        try {
            return held.size();
        } finally {
            lock.unlock();
        }
    }

    /** No record goes to the group from now on; the held ones are dropped with one log line. Idempotent. */
    void close() {
        lock.lock();
        try {
            if (!held.isEmpty()) {
                LOG.info("domain {} closed before its appends opened: {} record(s) captured during the join are not "
                        + "appended (the capture reads the local commits again at the next start)", database,
                        held.size());
                held.clear();
            }
            closed = true;
            target = null;
        } finally {
            lock.unlock();
        }
    }
}
