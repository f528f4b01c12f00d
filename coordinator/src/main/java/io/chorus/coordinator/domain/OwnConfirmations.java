package io.chorus.coordinator.domain;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * When the capture may forget one of this node's own changesets (let the slot confirm past it). A restart re-decodes
 * the slot from its confirmed position and rebuilds the pending rows from what it re-decodes, while it replays the log
 * only up to W: an own changeset delivered above W but no longer in the slot would come back from the log unknown to
 * the pending rows (and a winner before it could not roll it back). In async mode an own changeset is therefore
 * released once its GSN is applied here (W passed it), which costs only a little WAL retention. "Applied" must mean
 * durable: helpers commit with {@code synchronous_commit = off}, and a crash of PostgreSQL that undid the transaction
 * passing an own changeset would restart the domain below it with the changeset gone from the slot; so that
 * transaction commits with a local WAL flush (the applier's helper does it). In sync mode the
 * confirmed position is also what releases the waiting commit, so it is released at delivery (commit latency wins;
 * the restart window above remains there, closed by a durable copy of each own changeset written before its release,
 * {@link OwnReleases}: the restart takes the copies above W as pending changesets). Holding own DDL until its apply would not do in sync mode: the DDL's
 * transaction keeps its locks while it waits for the confirmation, and its apply waits for every earlier GSN, among
 * them remote changes to the very table it locked. For own DDL the domain instead notes the GSN durably before the
 * release ({@code Domain#noteOwnDdlOrdered}), which the restart's schema check reads ({@link SchemaCheck}).
 *
 * <p>Thread-safe: delivered on the delivery thread, applied on the applier's.
 */
final class OwnConfirmations {
    private final boolean atDelivery;
    private final Consumer<Lsn> release;
    /** (GSN, commit LSN) of own changesets delivered and not yet applied, in GSN order; bounded by the apply queue. */
    private final ArrayDeque<long[]> waiting = new ArrayDeque<>();
    private long applied;

    OwnConfirmations(boolean atDelivery, Gsn appliedAtStart, Consumer<Lsn> release) {
        this.atDelivery = atDelivery;
        this.release = release;
        this.applied = appliedAtStart.value();
    }

    void delivered(Gsn gsn, Lsn commitLsn) {
        synchronized (waiting) {
            if (atDelivery || gsn.value() <= applied) {
                release.accept(commitLsn);
                return;
            }
            waiting.add(new long[] {gsn.value(), commitLsn.value()});
        }
    }

    void applied(Gsn upTo) {
        synchronized (waiting) {
            applied = Math.max(applied, upTo.value());
            while (!waiting.isEmpty() && waiting.peekFirst()[0] <= applied) {
                release.accept(Lsn.of(waiting.pollFirst()[1]));
            }
        }
    }
}
