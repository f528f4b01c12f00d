package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.wire.WireCodec;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.gcs.DefinitionCatalog;
import io.chorus.gcs.Group;
import io.chorus.gcs.GroupListener;
import io.chorus.gcs.Membership;
import io.chorus.recovery.DeliveryGate;
import io.chorus.recovery.Donor;
import io.chorus.recovery.DonorHooks;
import io.chorus.recovery.Transfer;
import io.chorus.recovery.TransferMessage;
import io.chorus.recovery.TransferProgress;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A domain's part in recovery (DESIGN §7, module recovery): the full transfer a joiner runs before its pipeline starts,
 * and the donor every member runs once live, fed from the delivery thread through the {@link DeliveryGate}.
 * Thread-safe: {@link #beforeDelivery} is called on the delivery thread, the rest by the domain's start and close.
 */
final class DomainRecovery implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(DomainRecovery.class);
    private static final Duration OFFER_TIMEOUT = Duration.ofSeconds(90);
    private static final int TRANSFER_ATTEMPTS = 6;

    private final NodeConfig cfg;
    private final String database;
    private final WireCodec codec;
    private final DefinitionCatalog catalog;
    private final DeliveryGate gate = new DeliveryGate();
    private volatile Donor donor;
    private volatile Gsn logStart = Gsn.NONE;
    private volatile io.chorus.gcs.History history;
    private volatile long ownOrderedSeq;
    private volatile Group transferMembership;
    private volatile HandOverListener handOver;

    DomainRecovery(NodeConfig cfg, String database, WireCodec codec, DefinitionCatalog catalog) {
        this.catalog = catalog;
        this.cfg = cfg;
        this.database = database;
        this.codec = codec;
    }

    DeliveryGate gate() {
        return gate;
    }

    /**
     * Runs a full transfer as a temporary member of the group and returns the new W. Blocks until done (bounded by
     * the attempts); the capture must not run yet.
     */
    Gsn receive(String groupName, UUID identity, String helperPrefix, Consumer<TransferProgress> progress)
            throws InterruptedException {
        Transfer transfer = new Transfer(cfg.node(), app -> cfg.postgres().connect(database, app), this::connectDonor,
                helperPrefix, progress);
        AtomicReference<Membership> view = new AtomicReference<>();
        Group group;
        HandOverListener listener = new HandOverListener(transfer::onRecord, reason -> {
            LOG.info("during the transfer this member's log skipped records: {}", reason);
            transfer.onRecordsSkipped(reason);
        }, view::set);
        try {
            group = GroupFactory.join(cfg, groupName, identity, false, database, listener, Gsn.NONE, catalog);
        } catch (io.chorus.gcs.GcsException e) {
            throw GroupIdentity.refused(database, groupName, identity, GroupFactory.dir(cfg, database), e);
        }
        group.holdCompaction(true); // the domain replays this member's log from the snapshot's GSN on
        boolean done = false;
        try {
            awaitLogCaughtUp(group);
            Gsn w = transfer.run(new Transfer.Membership() {
                @Override
                public void append(byte[] record) {
                    group.resumeAppends(); // transfer records are independent: a failed one must not block the next
                    group.append(0, record).whenComplete((gsn, e) -> {
                        if (e != null) {
                            LOG.warn("a transfer record was not appended: {}", e.getMessage());
                        }
                    });
                }

                @Override
                public NodeId preferredDonor() {
                    Membership m = view.get() == null ? group.membership() : view.get();
                    if (m.leader().isPresent() && !m.leader().get().equals(cfg.node())) {
                        return m.leader().get();
                    }
                    return m.present().stream().filter(n -> !n.equals(cfg.node())).findFirst().orElse(null);
                }
            }, OFFER_TIMEOUT, TRANSFER_ATTEMPTS).gsn();
            logStart = group.firstAvailable();
            history = group.history();
            ownOrderedSeq = group.lastDeliveredSeq(cfg.node());
            transferMembership = group;
            handOver = listener;
            done = true;
            return w;
        } finally {
            if (!done) {
                group.close();
            }
        }
    }

    /**
     * Leaves the membership the last transfer ran in; the domain calls it right before it joins as the same member.
     * Until then this member stays in the group and keeps storing the log's records, so that the leader's compaction
     * can only pass them in the moment between the two (it would need another full transfer).
     */
    void leaveTransferMembership() {
        Group g = transferMembership;
        transferMembership = null;
        handOver = null;
        if (g != null) {
            g.close();
        }
    }

    /**
     * The domain takes over the last transfer's group membership with its own listener, from {@code from} on; null
     * when there is none or it cannot be handed over (then it is left, and the domain joins again).
     */
    Group takeTransferMembership(GroupListener domainListener, Gsn from) {
        Group g = transferMembership;
        HandOverListener h = handOver;
        if (g == null || h == null) {
            return null;
        }
        if (!h.handOver(domainListener, from, g.membership())) {
            leaveTransferMembership();
            return null;
        }
        transferMembership = null;
        handOver = null;
        g.holdCompaction(false);
        return g;
    }

    /**
     * Waits (at most 10 s) until this member's copy of the log reached the highest W another member announces, so that
     * a snapshot the leader sends it arrives before the request rather than over the donor's offer.
     */
    private void awaitLogCaughtUp(Group g) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Object tick = new Object();
        long target = -1;
        while (System.nanoTime() < deadline) {
            java.util.Map<NodeId, Gsn> announced = g.announcedWatermarks();
            announced.remove(cfg.node());
            target = announced.values().stream().mapToLong(Gsn::value).max().orElse(-1);
            if (target >= 0 && g.appliedGsn().value() >= target) {
                return;
            }
            synchronized (tick) {
                TimeUnit.MILLISECONDS.timedWait(tick, 100);
            }
        }
        LOG.info("requesting a full transfer with this member's log at GSN {} (highest W announced: {})",
                g.appliedGsn(), target);
    }

    /**
     * The first GSN this node's copy of the log holds after the last transfer ({@code Gsn.NONE} before one): a replay
     * cannot start below it, the records before it were compacted into a snapshot.
     */
    Gsn logStart() {
        return logStart;
    }

    /** The history line of the group's log when the last transfer ended (null before one): the copied data's. */
    io.chorus.gcs.History history() {
        return history;
    }

    /**
     * The highest commit LSN of this node's changesets the group had delivered when the last transfer ended (0 before
     * one): every local commit at or below it was ordered, and is in the copied data or was decided by the group.
     */
    io.chorus.changeset.Lsn ownOrdered() {
        return io.chorus.changeset.Lsn.of(ownOrderedSeq);
    }

    private Connection connectDonor(String host, int port, String db, String applicationName) throws SQLException {
        NodeConfig.Postgres pg = cfg.postgres();
        Properties p = new Properties();
        p.setProperty("user", pg.user());
        if (pg.password() != null) {
            p.setProperty("password", pg.password());
        }
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/" + db, p);
    }

    /** Starts answering transfer requests (once the domain's pipeline runs). */
    void startDonor(DonorHooks hooks) {
        donor = new Donor(cfg.node(), new Donor.Endpoint(cfg.postgres().host(), cfg.postgres().port(), database),
                app -> cfg.postgres().connect(database, app), hooks, gate);
    }

    /** Every delivered record, before the domain's delivery handles it; {@code live} is false for replayed GSNs. */
    void beforeDelivery(Gsn gsn, NodeId origin, byte[] payload, boolean live) {
        Donor d = donor;
        if (d == null || payload.length == 0) {
            return;
        }
        Gsn reported = null;
        if (payload[0] == LogRecord.WATERMARK) {
            try {
                reported = ((LogRecord.Watermark) LogRecord.decode(payload, codec)).watermark();
            } catch (ChorusException e) {
                LOG.debug("undecodable watermark at GSN {}: {}", gsn, e.getMessage());
            }
        }
        d.onRecord(origin, reported);
        if (live && TransferMessage.isTransfer(payload)) {
            d.onMessage(TransferMessage.decode(payload), gsn);
        }
    }

    @Override
    public void close() {
        leaveTransferMembership();
        Donor d = donor;
        if (d != null) {
            d.close();
        }
    }
}
