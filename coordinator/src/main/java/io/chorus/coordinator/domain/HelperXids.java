package io.chorus.coordinator.domain;

import io.chorus.coordinator.apply.XidSnapshot;
import java.util.Iterator;
import java.util.TreeSet;

/**
 * Tells from snapshots whether a local (non-helper) transaction can have committed since the last confirmed capture
 * check, so that the check can be answered at once (see {@link CaptureSync}).
 *
 * <p>A <em>reference</em> is a snapshot S0 for which every local transaction that S0 sees finished has been reported
 * by the capture: the snapshot of a check that waited for the capture past the WAL position read after it
 * ({@link #confirmed}). A later snapshot S needs no wait when every transaction id in
 * {@code xip(S0) ∪ [xmax(S0), xmax(S)) ∪ xip(S)} is a known helper transaction ({@link #add}): a top-level transaction
 * that S sees committed is then either below xmax(S0) and not running at S0 (so it had finished at S0, and was
 * reported), or a helper's. S then becomes the reference. Any other id (a local write, DDL, autoanalyze, a
 * subtransaction, the sidecar's own connections) means "unknown": the check waits, which is always safe.
 *
 * <p>Known limitation: PostgreSQL leaves out of a snapshot's running list a transaction that is inside logical
 * decoding at that moment (a session calling {@code pg_logical_slot_get_changes()}); a session that wrote replicated
 * rows and then decodes a slot in the same transaction could be taken as finished by a reference taken during that
 * call.
 *
 * <p>Thread-safe (one lock; every method is short). Memory: helper ids at or above the reference's xmax, or running
 * at the reference, at most {@value #MAX_IDS}.
 */
final class HelperXids {
    /** A check that would scan more ids than this since the reference waits instead. */
    static final long MAX_SCAN = 100_000;
    static final int MAX_IDS = 1 << 18;

    private final TreeSet<Long> helpers = new TreeSet<>();
    private XidSnapshot reference;

    /** {@code xid} is a top-level transaction of one of the domain's helpers. */
    synchronized void add(long xid) {
        XidSnapshot ref = reference;
        if (ref != null && xid < ref.xmax() && !ref.isRunning(xid)) {
            return; // finished at the reference: no later check asks about it
        }
        helpers.add(xid);
        if (helpers.size() > MAX_IDS) {
            helpers.pollFirst(); // an id forgotten is "unknown": a check waits
        }
    }

    /**
     * Whether no local transaction can have committed between the reference and {@code s} (see the class comment);
     * if so {@code s} becomes the reference. {@code s} must list the taking helper's own transaction as running
     * ({@link XidSnapshot#withRunning}).
     */
    synchronized boolean onlyHelpersSince(XidSnapshot s) {
        XidSnapshot ref = reference;
        if (ref == null || s.xmax() - ref.xmax() > MAX_SCAN || !allHelpers(ref) || !allHelpers(s)) {
            return false;
        }
        for (long x = ref.xmax(); x < s.xmax(); x++) {
            if (!helpers.contains(x)) {
                return false;
            }
        }
        advance(s);
        return true;
    }

    /** The capture has reported every commit before the WAL position read after {@code s}: a reference. */
    synchronized void confirmed(XidSnapshot s) {
        advance(s);
    }

    synchronized XidSnapshot reference() {
        return reference;
    }

    synchronized int size() {
        return helpers.size();
    }

    private boolean allHelpers(XidSnapshot s) {
        for (int i = 0; i < s.running(); i++) {
            if (!helpers.contains(s.running(i))) {
                return false;
            }
        }
        return true;
    }

    /** Keeps the newest reference (highest xmax; then the fewer running) and forgets ids no check asks about. */
    private void advance(XidSnapshot s) {
        XidSnapshot ref = reference;
        if (ref != null && (s.xmax() < ref.xmax() || s.xmax() == ref.xmax() && s.running() > ref.running())) {
            return;
        }
        reference = s;
        for (Iterator<Long> it = helpers.headSet(s.xmax()).iterator(); it.hasNext(); ) {
            if (!s.isRunning(it.next())) {
                it.remove();
            }
        }
    }
}
