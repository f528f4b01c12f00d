package io.chorus.coordinator.domain;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.gcs.BootstrapPlan;
import io.chorus.gcs.Group;
import io.chorus.gcs.GroupListener;
import io.chorus.gcs.Membership;
import java.util.List;
import java.util.function.LongSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A domain's side of a forced bootstrap ({@link Group#forceBootstrap}): runs it with the domain's listener and hands
 * the new handle back, which the domain then puts in place of the old one wherever it uses its group: the appender
 * (its sink reads the domain's field, and resends what the old handle failed with CLOSED), the watermark
 * announcements, the membership (the new handle's view, primary), the read barriers and DDL intents, the status. The
 * donor hooks and the recovery go through the domain, not the group.
 *
 * <p>The new handle delivers from the GSN the domain had delivered when the bootstrap started; a record the old
 * handle still delivered while it closed is not handed over twice. The DDL intents of the removed voters never end
 * (their origin is gone): {@link #ddlForgets} are the barriers that end them at one place in the new history, on
 * every node that delivers it. Not thread-safe: one per forced bootstrap.
 */
final class ForcedTakeOver {
    private static final Logger LOG = LogManager.getLogger(ForcedTakeOver.class);

    private final Group old;
    private final GroupListener listener;
    private final Gsn resumeAfter;
    private final LongSupplier delivered;
    private BootstrapPlan plan;

    /**
     * @param listener    the domain's group listener
     * @param resumeAfter the GSN the domain has delivered now
     * @param delivered   the domain's delivered GSN when the new handle delivers
     */
    ForcedTakeOver(Group old, GroupListener listener, Gsn resumeAfter, LongSupplier delivered) {
        this.old = old;
        this.listener = listener;
        this.resumeAfter = resumeAfter;
        this.delivered = delivered;
    }

    /**
     * Runs the confirmed forced bootstrap; blocks as {@link Group#forceBootstrap} does.
     *
     * @return the new handle, primary
     * @throws io.chorus.gcs.GcsException as {@link Group#forceBootstrap}: REFUSED (nothing changed), FAILED
     */
    Group run() {
        plan = old.bootstrapPlan();
        return old.forceBootstrap(true, new GroupListener() {
            @Override
            public void onDelivered(Gsn gsn, NodeId origin, long originSeq, byte[] payload) {
                if (gsn.value() <= delivered.getAsLong()) {
                    LOG.debug("GSN {} was delivered by the group's handle before the forced bootstrap", gsn);
                    return;
                }
                listener.onDelivered(gsn, origin, originSeq, payload);
            }

            @Override
            public void onMembership(Membership m) {
                listener.onMembership(m);
            }

            @Override
            public void onFullTransferNeeded(String reason) {
                listener.onFullTransferNeeded(reason);
            }

            @Override
            public void onHistory(io.chorus.gcs.History line) {
                listener.onHistory(line); // the history this bootstrap starts: the database stores it
            }
        }, resumeAfter);
    }

    /** The assessment the bootstrap acted on (after {@link #run}). */
    String assessment() {
        return plan.describe();
    }

    /** One DDL barrier token per removed voter: its delivery ends that member's open DDL intents ({@link DdlOrder}). */
    List<String> ddlForgets() {
        return plan.missingVoters().stream().map(n -> DdlOrder.FORGET + n.value()).toList();
    }
}
