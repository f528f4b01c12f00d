package io.chorus.coordinator.domain;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.capture.CaptureConfig;
import io.chorus.changeset.capture.CaptureListener;
import io.chorus.changeset.capture.SlotCapture;
import io.chorus.changeset.wire.WireCodec;
import io.chorus.coordinator.apply.Applier;
import io.chorus.coordinator.apply.ApplierConfig;
import io.chorus.coordinator.apply.ApplyListener;
import io.chorus.coordinator.apply.ApplyProgress;
import io.chorus.coordinator.apply.ApplySchema;
import io.chorus.coordinator.apply.ApplyUnit;
import io.chorus.coordinator.certify.Certifier;
import io.chorus.coordinator.certify.CertifierConfig;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.coordinator.pending.PendingTracker;
import io.chorus.gcs.DefinitionCatalog;
import io.chorus.gcs.Group;
import io.chorus.gcs.GroupListener;
import io.chorus.gcs.History;
import io.chorus.gcs.Membership;
import io.chorus.schema.ReplicaIdentityPolicy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import io.chorus.coordinator.apply.ConflictRow;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

/**
 * One replicated database on this node (DESIGN §2): capture → group → delivery (certify, doom) → applier. Created by
 * the sidecar when {@code chorus.enable()} is requested or when it restarts with the database enabled.
 *
 * <p>Threads: the capture's reader thread (local commits: keys, pending set, append queue), the appender, the group's
 * delivery thread ({@link Delivery}), the applier's helpers. The pending set (R3) is shared by capture and delivery
 * under one lock. Thread-safe for {@link #status()} and {@link #close()}.
 */
public final class Domain implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Domain.class);
    private static final long WATERMARK_EVERY_MS = 2_000;
    /** Payload bytes of local changesets waiting for the group: large rows must not fill the heap (flow control). */
    private static final long APPEND_QUEUE_BYTES = 32L << 20;
    /** Replication origins are server-wide: each database's helpers get their own prefix. */
    private final String helperPrefix;
    /** Prefix of the non-transactional message {@code chorus.sync_wait()} writes; its content is the barrier token. */
    static final String SYNC_WAIT_PREFIX = "chorus_sync_wait";

    /** Reports the phases of start-up (connect, initialise, join, catch-up) to the control surface. */
    public interface PhaseListener {
        void phase(String phase);
    }

    private final NodeConfig cfg;
    private final String database;
    private final String groupName;
    private final boolean bootstrap;
    private final NodeConfig.Mode mode;
    private final Consumer<ChorusException> onFailure;
    /**
     * The relation versions of this domain's group log (filled by every group instance this domain joins, from the
     * first record replayed on): records name the versions it holds by id alone. Fresh for every start of the domain.
     */
    private final DefinitionCatalog catalog = new DefinitionCatalog();
    /** Decodes against {@link #catalog}; encodes self-contained frames unless given the catalog. */
    private final WireCodec codec = new WireCodec(catalog);
    private final ReentrantLock pendingLock = new ReentrantLock();
    private volatile DomainState state = DomainState.OFFLINE;
    private volatile boolean closing;
    private volatile BackgroundJoin joining;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile String lastError;
    private volatile Membership membership;
    private volatile long lastWatermarkSent;
    /**
     * Watermark reports, DDL releases, and the DDL intents the group refused at once. Exists from construction on (its
     * thread starts with the first task): an intent can come back refused before the start scheduled the reports.
     */
    private final java.util.concurrent.ScheduledExecutorService watermarkTimer;
    /** How often the stage latencies are logged (at DEBUG, when there were any). */
    private static final long LATENCY_EVERY_MS = 5_000;
    private static final long CONFLICTS_EVERY_MS = 10_000;
    /** Stage latencies, measured only when they are logged (DEBUG when the domain starts): null otherwise. */
    private final StageLatency latency = LOG.isDebugEnabled() ? new StageLatency() : null;
    private Applier applier;
    private volatile Group group;
    private final WatermarkExchange exchange = new WatermarkExchange();
    private volatile SlotCapture capture;
    private volatile Appender appender;
    private Delivery delivery;
    private final LagClock lagClock = new LagClock();
    private KeyEnricher enricher;
    private PendingTracker pending;
    private UUID identity;
    /** The history line the database's data belongs to (chorus.meta); {@link History#FIRST} when none was stored. */
    private volatile History storedHistory = History.FIRST;
    private CaptureSync sync;
    private final SchemaChanges schemaChanges = new SchemaChanges();
    private DdlOrder ddlOrder;
    private final DomainGuard guard = new DomainGuard(pendingLock, this::drainLocals, schemaChanges);
    private final DomainRecovery recovery;
    private final Object localsMonitor = new Object();
    private volatile String transferPhase;
    private volatile Gsn replayedUpTo = Gsn.NONE;
    /** Conflict rows recorded up to W when the domain started: the status counts the whole table, not this run's. */
    private volatile long conflictsBefore;
    private final List<ChangeSet> startupLocals = new ArrayList<>();
    /** The group's schema at W as recorded here, checked once the replay reached W; null: nothing to check. */
    private io.chorus.schema.SchemaAtWatermark.Recorded schemaAtW;
    /** The GSN of this node's own DDL last noted as ordered ({@link #noteOwnDdlOrdered}), read at the start. */
    private Gsn ownDdlOrdered = Gsn.NONE;
    private final java.util.Queue<ChangeSet> capturedLocals = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private boolean live;
    private volatile OwnConfirmations confirmations;
    /** Sync mode's durable copy of the own changesets released from the slot before their apply. */
    private volatile OwnReleases ownReleases;
    /** Every record of this node on its way to the appender, held in order until the group is joined. */
    private final OrderedAppends appends;
    /** Commit LSN of the newest local changeset taken from the capture (guarded by startupLocals). */
    private Lsn lastLocalCommit = Lsn.INVALID;

    public Domain(NodeConfig cfg, String database, String groupName, boolean bootstrap, NodeConfig.Mode mode,
                  Consumer<ChorusException> onFailure) {
        this.cfg = cfg;
        this.database = database;
        this.groupName = groupName;
        this.bootstrap = bootstrap;
        this.mode = mode;
        this.onFailure = onFailure;
        this.helperPrefix = helperOriginPrefix(database);
        this.recovery = new DomainRecovery(cfg, database, codec, catalog);
        this.appends = new OrderedAppends(database);
        this.watermarkTimer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "chorus-watermark-" + database);
            t.setDaemon(true);
            return t;
        });
    }

    /** {@code chorus_<8 hex digits of the database name's CRC-32>_h}: distinct per database, short, a valid name. */
    public static String helperOriginPrefix(String database) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(database.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return String.format("chorus_%08x_h", crc.getValue());
    }

    /**
     * Starts every part; returns once the domain delivers (ONLINE or NON_PRIMARY). Throws naming the failed phase.
     *
     * <p>Restart: the log is replayed from {@code W - window} (certified again, not applied) so the certifier's index
     * equals the other nodes'; the capture re-emits this node's unconfirmed local commits, which are buffered until
     * the replay reached W and the capture caught up; then the pending-row tracker is rebuilt from both and
     * deliveries above W go on.
     */
    public void start(PhaseListener phases) {
        ThreadContext.put("db", database);
        state = DomainState.JOINING;
        Gsn w;
        CertifierConfig certCfg = CertifierConfig.defaults();
        Map<Long, List<ConflictRow>> recorded;
        Gsn from;
        phases.phase("connect");
        try (Connection c = connect()) {
            phases.phase("initialise");
            w = initialise(c);
            boolean transferred = io.chorus.recovery.Transfer.needed(c, w, bootstrap);
            if (transferred) {
                phases.phase("transfer");
                w = receive(c);
            }
            if (transferred) {
                OwnReleases.discard(ownReleasesFile(cfg, database));
            }
            schemaAtW = SchemaCheck.prepare(c, w, transferred, database).orElse(null);
            ownDdlOrdered = io.chorus.schema.SchemaAtWatermark.ownDdlOrdered(c);
            // after a full transfer the log may start above W - window (compacted): replay from where it starts
            from = Gsn.of(Math.min(w.value(), Math.max(Math.max(0, w.value() - certCfg.window()),
                    recovery.logStart().value() - 1)));
            recorded = RecordedConflicts.load(c, from, w);
            conflictsBefore = RecordedConflicts.count(c, w);
        } catch (SQLException e) {
            throw new ChorusException("cannot prepare database " + database + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChorusException("interrupted during the full transfer of " + database, e);
        }
        replayedUpTo = w;
        Certifier certifier = from.value() == 0 ? new Certifier(certCfg) : Certifier.resumingAt(certCfg, from);
        sync = new CaptureSync(jdbcUrlWithCredentials(), this::captureProgress, () -> {
            SlotCapture c = capture;
            if (c != null) {
                c.nudge();
            }
        });
        guard.attach(sync);
        ownReleases = OwnReleases.open(ownReleasesFile(cfg, database), codec, cfg.node(), w);
        confirmations = new OwnConfirmations(mode == NodeConfig.Mode.SYNC, w, lsn -> capture.markDelivered(lsn));
        applier = new Applier(applierConfig(), new ApplyListener() {
            @Override
            public void onApplied(Gsn upTo) {
                if (latency != null) {
                    latency.applied(upTo);
                }
                confirmations.applied(upTo); // watermarks are reported by their own timer (reportWatermark)
                ownReleases.applied(upTo);
            }

            @Override
            public void onFailed(ChorusException reason) {
                fail(reason);
            }
        });
        ddlOrder = new DdlOrder(cfg.node(), () -> cfg.postgres().connect(database, "chorus-ddl-order"));
        ddlOrder.restartedAfter(from); // its intents ordered before the replay are unknown here: swept once live
        delivery = new Delivery(cfg.node(), database, codec, certifier, pendingLock, this::drainLocals, this::submit,
                this::localDelivered, from, w, recorded, ddlOrder, replaySpillFile(cfg, database));
        enricher = new KeyEnricher(cfg.postgres(), database);
        capture = new SlotCapture(captureConfig(), captureListener());
        capture.start();
        acceptLocalWrites();
        phases.phase("join");
        UUID known = identity;
        GroupListener listener = groupListener();
        // what the data holds, presented beside the log: a group folder moved away does not hide an older history
        History.Held held = new History.Held(storedHistory, w.value());
        joining = new BackgroundJoin(database, () -> {
            try {
                // after a full transfer the domain takes over the transfer's membership (it does not join again)
                Group handed = recovery.takeTransferMembership(listener, from);
                return handed != null ? handed
                        : GroupFactory.join(cfg, groupName, known, bootstrap, database, listener, from, held,
                                catalog);
            } catch (io.chorus.gcs.GcsException e) {
                throw refused(known, e);
            }
        });
        state = DomainState.CATCHING_UP; // replaying this member's log while the join runs
        goLive(w, from);
        try {
            group = joining.await(Duration.ofMinutes(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChorusException("interrupted while joining the group of " + database, e);
        }
        phases.phase("catch-up");
        if (state != DomainState.FAILED) {
            state = DomainState.CATCHING_UP;
        }
        Group joined = group;
        joined.announceWatermark(w);
        // through the field: a forced bootstrap replaces the group, and the appender resends to the new one
        appender = new Appender("chorus-append-" + database, new Appender.Sink() {
            @Override
            public java.util.concurrent.CompletableFuture<?> append(long originSeq, byte[] payload,
                                                                   java.util.Map<Long, byte[]> entries) {
                return group.append(originSeq, payload, entries);
            }

            @Override
            public void resume() {
                group.resumeAppends();
            }
        }, 10_000, APPEND_QUEUE_BYTES, 512, appendSpillFile(cfg, database), () -> !sync.hasWaiters(), this::fail);
        if (closed.get()) { // closed while joining (disabled, or a restart took over): close() missed this appender
            appender.close();
            throw new ChorusException("domain " + database + " was closed while it joined group " + groupName);
        }
        appender.start();
        openAppends();
        awaitGroupHead(joined);
        recovery.startDonor(new DomainDonorHooks(this, database));
        watermarkTimer.scheduleWithFixedDelay(this::reportWatermarkSafely, WATERMARK_EVERY_MS, WATERMARK_EVERY_MS,
                TimeUnit.MILLISECONDS);
        watermarkTimer.scheduleWithFixedDelay(ddlOrder::releaseFinished, 500, 500, TimeUnit.MILLISECONDS);
        watermarkTimer.scheduleWithFixedDelay(this::reportLatency, LATENCY_EVERY_MS, LATENCY_EVERY_MS,
                TimeUnit.MILLISECONDS);
        watermarkTimer.scheduleWithFixedDelay(this::reportConflicts, CONFLICTS_EVERY_MS, CONFLICTS_EVERY_MS,
                TimeUnit.MILLISECONDS);
        if (state != DomainState.FAILED) { // a failure while catching up stands: deliveries stopped with it
            state = group.isPrimary() ? DomainState.ONLINE : DomainState.NON_PRIMARY;
        }
        storeAdoptedIdentity();
        storeHistory(joined.history());
        LOG.info("domain {} {} in group {} (W={}, replayed from {})", database, state, groupName, w, from);
    }

    /**
     * A refused join: past a fork of the group's history, the domain stops to rejoin by a full transfer
     * ({@link PastFork}); any other refusal stops it with the refusal and what to do ({@link GroupIdentity#refused}).
     */
    private ChorusException refused(UUID known, io.chorus.gcs.GcsException e) {
        java.nio.file.Path dir = GroupFactory.dir(cfg, database);
        if (e.kind() != io.chorus.gcs.GcsException.Kind.PAST_FORK) {
            return GroupIdentity.refused(database, groupName, known, dir, e);
        }
        try (Connection c = connect()) {
            return PastFork.rejoin(c, database, groupName, dir, e);
        } catch (SQLException ex) {
            return new ChorusException(GroupIdentity.refused(database, groupName, known, dir, e).getMessage()
                    + " (the full transfer could not be marked by itself: [" + ex.getSQLState() + "] "
                    + ex.getMessage() + ")", e);
        }
    }

    /**
     * Stores the history line the database's data belongs to, once it changes (called in log order, before any GSN
     * after a fork is applied). A failed store is logged: the next join may then take the data for the older
     * history and copy it again, which is safe.
     */
    private void storeHistory(History line) {
        if (line == null || line.equals(storedHistory)) {
            return;
        }
        try (Connection c = connect()) {
            GroupIdentity.storeHistory(c, line);
            storedHistory = line;
            LOG.info("database {}: its data now belongs to {} (stored in chorus.meta)", database, line);
        } catch (SQLException e) {
            LOG.warn("could not store {} in chorus.meta of {}: [{}] {}", line, database, e.getSQLState(),
                    e.getMessage());
        }
    }

    /** The records captured before the join (commits, barriers) go first, in capture order. */
    private void openAppends() {
        try {
            int held = appends.open(appender);
            if (held > 0) {
                LOG.info("domain {}: {} record(s) captured before the group join handed to the appender in capture "
                        + "order", database, held);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChorusException("interrupted while appending the commits captured during the join of " + database, e);
        }
    }

    /** Not ONLINE before the deliveries reached the group's position ({@link GroupCatchUp}). */
    private void awaitGroupHead(Group joined) {
        try {
            GroupCatchUp.await(joined, cfg.node(), delivery::delivered, () -> state == DomainState.FAILED,
                    text -> transferPhase = text);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChorusException("interrupted while domain " + database + " caught up with the group", e);
        } catch (ChorusException e) {
            throw new ChorusException(e.getMessage() + ": " + lastError, e);
        }
        transferPhase = null;
    }

    /**
     * Waits for the replay to reach W and the capture to catch up, then rebuilds the pending rows and goes live; the
     * group join runs meanwhile ({@link BackgroundJoin}).
     */
    private void goLive(Gsn w, Gsn from) {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        CatchUpProgress progress = new CatchUpProgress(from, w);
        try {
            // nothing to replay when the log starts at W (a full transfer whose log was compacted up to its snapshot):
            // the first record delivered is W + 1, which waits for this method
            while (w.isAfter(from)
                    && !delivery.awaitDelivered(w, Math.min(deadline, System.nanoTime() + TimeUnit.SECONDS.toNanos(1)))) {
                transferPhase = progress.update(delivery.delivered());
                explainWaiting(w);
                if (state == DomainState.FAILED) {
                    throw new ChorusException("replay of the group log failed: " + lastError);
                }
                ChorusException joinFailed = joining.failure();
                if (joinFailed != null) {
                    throw joinFailed;
                }
                if (System.nanoTime() > deadline) {
                    throw new ChorusException("the group log was not replayed up to W=" + w + " within 10 minutes (at GSN "
                            + delivery.delivered() + "); is a majority of the group up?");
                }
            }
            transferPhase = "replayed the group log up to W=" + w + "; waiting for the capture to reach the end of the WAL";
            sync.await(Duration.ofSeconds(60));
            checkSchema(w);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChorusException("interrupted while catching up", e);
        }
        LOG.info("CATCHING_UP done: replayed GSN {}..{} in {} ms", from.next(), w, progress.elapsedMillis());
        transferPhase = null;
        pendingLock.lock();
        try {
            List<ChangeSet> undelivered = new ArrayList<>();
            synchronized (startupLocals) {
                for (ChangeSet cs : startupLocals) {
                    if (!delivery.replayedOwn(cs.gtid())) {
                        undelivered.add(cs);
                    } else {
                        capture.markDelivered(cs.gtid().commitLsn()); // re-emitted after its replayed delivery
                    }
                }
                startupLocals.clear();
                live = true;
            }
            undelivered = withReleasedAboveW(undelivered);
            try {
                pending = PendingTracker.rebuild(cfg.node(), from.next(), delivery.replayedVerdicts(), undelivered);
            } catch (IllegalArgumentException e) {
                throw new ChorusException("cannot rebuild this node's pending rows after a restart (" + e.getMessage()
                        + "); the node needs a full state transfer", e);
            }
            guard.attach(pending);
            delivery.goLive(pending);
        } finally {
            pendingLock.unlock();
        }
    }

    /**
     * The pending changesets of the rebuild: those the capture emitted again, and before them (they committed earlier)
     * those sync mode released from the slot at a delivery above W, from their durable copy ({@link OwnReleases}; the
     * reasoning is in {@link io.chorus.coordinator.pending}), in commit order.
     */
    private List<ChangeSet> withReleasedAboveW(List<ChangeSet> emitted) {
        List<ChangeSet> kept = ownReleases.kept();
        if (kept.isEmpty()) {
            return emitted;
        }
        java.util.Set<io.chorus.changeset.Gtid> again = new java.util.HashSet<>();
        emitted.forEach(cs -> again.add(cs.gtid()));
        List<ChangeSet> all = new ArrayList<>();
        for (ChangeSet cs : kept) {
            if (!again.contains(cs.gtid()) && !delivery.replayedOwn(cs.gtid())) {
                all.add(cs);
            }
        }
        LOG.info("domain {}: {} own changeset(s) released from the slot at their delivery above W are pending again "
                + "from their copy ({} emitted again by the capture)", database, all.size(), emitted.size());
        all.addAll(emitted);
        all.sort(java.util.Comparator.comparing(cs -> cs.gtid().commitLsn().value()));
        return all;
    }

    /** Nothing above W is applied yet: the database must still have the group's schema at W (DESIGN §6). */
    private void checkSchema(Gsn w) {
        if (schemaAtW == null) {
            return;
        }
        List<ChangeSet> undelivered = new ArrayList<>();
        synchronized (startupLocals) {
            startupLocals.stream().filter(cs -> !delivery.replayedOwn(cs.gtid())).forEach(undelivered::add);
        }
        try (Connection c = connect()) {
            SchemaCheck.verify(c, schemaAtW, w, database, undelivered, ownDdlOrdered);
        } catch (SQLException e) {
            throw new ChorusException("cannot compare the schema of " + database + " with the group's at W=" + w + ": ["
                    + e.getSQLState() + "] " + e.getMessage(), e);
        }
    }

    /** The capture's slot exists: local writes refused for a full transfer reach the group again. */
    private void acceptLocalWrites() {
        try (Connection c = connect()) {
            io.chorus.recovery.LocalWriteRefusal.end(c);
        } catch (SQLException e) {
            throw new ChorusException("cannot accept local writes to " + database + " again after the transfer: ["
                    + e.getSQLState() + "] " + e.getMessage(), e);
        }
    }

    /** A node that joined without an identity keeps the one it adopted, so it is checked at every later join. */
    private void storeAdoptedIdentity() {
        if (identity != null || group.groupIdentity().isEmpty()) {
            return;
        }
        identity = group.groupIdentity().get();
        try (Connection c = connect()) {
            GroupIdentity.store(c, identity);
        } catch (SQLException e) {
            LOG.warn("could not store the adopted group identity {} in {}: {}", identity, database, e.getMessage());
        }
    }

    /** Announces W beside the log and, outside a primary component, says what this node waits for. */
    private void explainWaiting(Gsn w) {
        Group g = group;
        if (g == null) {
            return;
        }
        g.announceWatermark(w);
        exchange.update(membership, g.announcedWatermarks(), w);
        String waiting = exchange.text();
        if (waiting != null && state == DomainState.CATCHING_UP) {
            transferPhase = waiting;
        }
    }

    private void reportWatermarkSafely() {
        try {
            explainWaiting(appliedGsn());
            reportWatermark();
        } catch (RuntimeException e) {
            LOG.warn("watermark report failed: {}", e.getMessage());
        }
    }

    private CaptureListener captureListener() {
        return new CaptureListener() {
            @Override
            public void onLocalChangeSet(ChangeSet cs) {
                if (latency != null) {
                    latency.captured(cs.commitTime());
                }
                local(cs);
                sync.decodedThrough(cs.gtid().commitLsn());
            }

            @Override
            public void onHelperCommit(String originName, Gsn appliedGsn, Lsn commitLsn) {
                sync.decodedThrough(commitLsn); // deps are tracked by the capture itself
                if (schemaChanges.helperCommitted(appliedGsn)) {
                    enricher.invalidate(); // a committed remote DDL makes the catalog stale
                }
            }

            @Override
            public void onCaughtUp(Lsn walEnd) {
                sync.decodedThrough(walEnd);
            }

            @Override
            public void onControlMessage(String prefix, byte[] content, Lsn lsn) {
                sync.onMessage(prefix, content, lsn);
                if (SYNC_WAIT_PREFIX.equals(prefix)) {
                    requestBarrier(new String(content, java.nio.charset.StandardCharsets.UTF_8));
                }
            }

            @Override
            public void onFailure(ChorusException cause) {
                fail(cause);
            }
        };
    }

    private GroupListener groupListener() {
        return new GroupListener() {
            @Override
            public void onDelivered(Gsn gsn, NodeId origin, long originSeq, byte[] payload) {
                if (state == DomainState.FAILED) {
                    return; // stopped for a reason already reported; recovery re-delivers from W
                }
                recovery.gate().enter();
                try {
                    recovery.beforeDelivery(gsn, origin, payload, gsn.isAfter(replayedUpTo));
                    delivery.deliver(gsn, payload);
                    lagClock.delivered(gsn.value(), System.nanoTime());
                } catch (ChorusException | IllegalStateException | IllegalArgumentException e) {
                    fail(e instanceof ChorusException ce ? ce : new ChorusException(e.getMessage(), e));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    recovery.gate().exit();
                }
            }

            @Override
            public void onMembership(Membership m) {
                membershipChanged(m);
            }

            @Override
            public void onHistory(History line) {
                storeHistory(line);
            }

            @Override
            public void onFullTransferNeeded(String reason) {
                String recorded = markTransferNeeded(reason);
                io.chorus.recovery.TransferNeededException e = new io.chorus.recovery.TransferNeededException(
                        "this node fell behind the group's retained log (" + reason + "); it needs a full state transfer"
                        + recorded);
                if (state == DomainState.FAILED && !closing) {
                    // stopped already (the records it missed can make it fail first): still restart, with the transfer
                    LOG.error("domain {} (FAILED: {}) {}", database, lastError, e.getMessage());
                    onFailure.accept(e);
                } else {
                    fail(e);
                }
            }
        };
    }

    private Gsn initialise(Connection c) throws SQLException {
        List<String> problems = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT * FROM chorus.preflight()")) {
            while (rs.next()) {
                problems.add(rs.getString(1));
            }
        }
        if (!problems.isEmpty()) {
            throw new ChorusException(String.join("; ", problems));
        }
        try (Statement st = c.createStatement()) {
            st.execute("SET chorus.replicate_ddl = off"); // the per-node policies below are this node's own
        }
        ReplicaIdentityPolicy.prepare(c);
        io.chorus.recovery.TransferHold.install(c, Duration.ofSeconds(30));
        SequencePolicy.apply(c, sequenceSlot());
        identity = GroupIdentity.resolve(c, groupName, bootstrap);
        storedHistory = GroupIdentity.history(c);
        ApplySchema.ensure(c);
        return ApplyProgress.readWatermark(c, helperPrefix);
    }

    private int sequenceSlot() {
        List<String> ids = new ArrayList<>(cfg.group().members().keySet());
        ids.sort(null);
        return ids.indexOf(cfg.node().value()) + 1;
    }

    /**
     * A captured local commit: queued for the pending-row tracker without waiting for its lock (the capture thread
     * must keep reading), then appended to the group. Whoever takes the tracker's lock drains the queue first
     * ({@link #drainLocals}); a commit that reaches the tracker after a winner that beats it was processed is doomed
     * late, in that winner's transaction (ApplyGuard).
     */
    private void local(ChangeSet raw) {
        synchronized (startupLocals) {
            if (!raw.gtid().commitLsn().isAfter(lastLocalCommit)) {
                // re-emitted after the capture reconnected: already tracked and appended (its delivery, if any, is
                // remembered by the capture); taking it again would track it twice
                LOG.debug("local changeset {} emitted again after a capture reconnect: already taken", raw.gtid());
                return;
            }
        }
        ChangeSet cs = enricher.enrich(raw); // may fail (server restarting): the capture then emits it again
        if (SchemaChanges.hasDdl(raw)) {
            schemaChanges.localDdl(raw); // tables it renamed or dropped: remote changes written before it follow them
            if (applier != null) {
                applier.schemaChanged(); // this node's own DDL: the helpers' statement caches are stale
            }
        }
        synchronized (startupLocals) {
            lastLocalCommit = raw.gtid().commitLsn();
            if (!live) {
                startupLocals.add(cs);
            } else {
                capturedLocals.add(cs);
            }
        }
        append(cs);
    }

    /**
     * Changes whenever the capture decodes more WAL, or waits because the group holds its appends back (no majority,
     * a slow group; only while no capture sync waits: see {@link Appender}): a capture sync waits on as long as this
     * moves.
     */
    private long captureProgress() {
        SlotCapture c = capture;
        Appender a = appender;
        return (c == null ? 0 : c.receivedLsn().value()) + (a == null ? 0 : a.heldBack());
    }

    /** Hands queued local commits to the tracker; call with the pending lock held. */
    private void drainLocals() {
        ChangeSet cs;
        while ((cs = capturedLocals.poll()) != null) {
            pending.addLocal(cs);
        }
    }

    /**
     * Queues a local changeset for the group, strictly in capture order ({@link OrderedAppends}: held until the group
     * is joined); waits for it only while no helper waits for the capture.
     */
    private void append(ChangeSet cs) {
        try {
            appends.submit("local changeset " + cs.gtid(), () -> {
                // encoded when it is queued: the catalog holds only versions committed before, hence before it
                WireCodec.Encoded e = LogRecord.changes(cs, codec, catalog);
                if (!e.definitions().isEmpty() && LOG.isDebugEnabled()) {
                    LOG.debug("local changeset {} carries {} relation version(s) the group does not hold yet", cs.gtid(),
                            e.definitions().size());
                }
                return new Appender.Item(cs.gtid().commitLsn().value(), e.frame(), e.definitions());
            });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChorusException("interrupted while queueing a local changeset for the group", e);
        }
    }

    private void localDelivered(ChangeSet cs, Gsn gsn) {
        schemaChanges.localDelivered(cs.gtid().commitLsn(), gsn);
        if (mode == NodeConfig.Mode.SYNC && gsn.isAfter(replayedUpTo) && SchemaChanges.hasDdl(cs)
                && !noteOwnDdlOrdered(gsn)) {
            return; // not released: the slot re-sends it after the restart that follows the failure
        }
        if (mode == NodeConfig.Mode.SYNC && gsn.isAfter(replayedUpTo) && !copyBeforeRelease(cs, gsn)) {
            return; // not released: the slot re-sends it after the restart that follows the failure
        }
        confirmations.delivered(gsn, cs.gtid().commitLsn());
        synchronized (localsMonitor) {
            localsMonitor.notifyAll();
        }
    }

    /**
     * Sync mode releases an own changeset from the slot at its delivery, before its apply: its durable copy is written
     * first ({@link OwnReleases}). Returns false, with the domain failed, when it could not be written.
     */
    private boolean copyBeforeRelease(ChangeSet cs, Gsn gsn) {
        try {
            ownReleases.add(gsn, cs);
            return true;
        } catch (java.io.IOException | RuntimeException e) {
            fail(new ChorusException("cannot copy this node's own changeset " + cs.gtid() + " (GSN " + gsn + ") to "
                    + ownReleasesFile(cfg, database) + " before its slot lets go of it: " + e, e));
            return false;
        }
    }

    /**
     * Sync mode releases an own changeset from the slot at its delivery ({@link OwnConfirmations}), before the helper
     * that passes it records the schema at its GSN: for an own DDL changeset, the GSN is first noted durably, so that a
     * restart below it knows the schema it finds is the group's ({@link SchemaCheck}). Returns false, with the domain
     * failed, when the note could not be written (the changeset must then stay in the slot).
     */
    private boolean noteOwnDdlOrdered(Gsn gsn) {
        try (Connection c = connect()) {
            io.chorus.schema.SchemaAtWatermark.noteOwnDdlOrdered(c, gsn);
            return true;
        } catch (SQLException e) {
            fail(new ChorusException("cannot note in " + database + " that this node's own DDL was ordered at GSN " + gsn
                    + " before its slot lets go of it: [" + e.getSQLState() + "] " + e.getMessage(), e));
            return false;
        }
    }

    /**
     * Full transfer before the pipeline starts (module recovery): the domain is RECEIVING, with the progress as its
     * phase; afterwards the new tables get the replica identity and sequence policies. Returns the new W.
     */
    private Gsn receive(Connection c) throws SQLException, InterruptedException {
        state = DomainState.RECEIVING;
        String reason = io.chorus.recovery.Transfer.pendingReason(c);
        // from here until the new slot exists a local write would be lost: refused, and the running ones drained
        io.chorus.recovery.LocalWriteRefusal.begin(c, reason == null ? "a new node's first transfer" : reason,
                Duration.ofSeconds(30));
        int saved = RejoinPreparation.saveAndReset(captureConfig(), captureStateDir(cfg, database),
                app -> cfg.postgres().connect(database, app), reason == null ? "full transfer" : reason, Duration.ofMinutes(2));
        java.nio.file.Path movedAside = PastFork.moveAside(c, database); // after the save: a failed save moves nothing
        long[] lastLog = {0};
        Gsn w = recovery.receive(groupName, identity, helperPrefix, p -> {
            transferPhase = p.describe();
            if (System.nanoTime() - lastLog[0] > TimeUnit.SECONDS.toNanos(5)) {
                lastLog[0] = System.nanoTime();
                LOG.info("RECEIVING {}", transferPhase);
            }
        });
        transferPhase = null;
        storeHistory(recovery.history()); // the copied data is of the group's history, before any join presents it
        int ordered = RejoinPreparation.dropOrdered(c, recovery.ownOrdered());
        if (saved > ordered) {
            lastError = (saved - ordered) + " local transaction(s) that the group never ordered were saved in "
                    + "chorus.saved_commits before the full transfer: review and replay them";
        }
        if (movedAside != null) {
            lastError = "rejoined group " + groupName + " by a full transfer (" + reason + "); the old group folder "
                    + "was moved to " + movedAside + "; " + Math.max(0, saved - ordered) + " undelivered local "
                    + "transaction(s) were saved in chorus.saved_commits: review and replay them";
            LOG.info("database {}: {}", database, lastError);
        }
        LOG.info("{} saved local transaction(s) had been ordered by the group (highest commit LSN of {} delivered: {}) "
                + "and were removed from chorus.saved_commits; {} kept", ordered, cfg.node(), recovery.ownOrdered(),
                Math.max(0, saved - ordered));
        ReplicaIdentityPolicy.prepare(c);
        io.chorus.recovery.TransferHold.install(c, Duration.ofSeconds(30));
        SequencePolicy.apply(c, sequenceSlot());
        LOG.info("domain {}: full transfer done, W={}; CATCHING_UP from the group log", database, w);
        return w;
    }

    /** Marks the database for a full transfer at its next start; returns what to tell the operator. */
    private String markTransferNeeded(String reason) {
        try (Connection c = connect()) {
            io.chorus.recovery.Transfer.markNeeded(c, reason);
            return ": it restarts with one (its undelivered local commits are saved in chorus.saved_commits first)";
        } catch (SQLException e) {
            LOG.warn("could not record the need for a full transfer in {}: [{}] {}", database, e.getSQLState(), e.getMessage());
            return "";
        }
    }

    /** Waits until every captured local changeset came back in total order (for a donor's snapshot boundary). */
    boolean awaitLocalsDelivered(long deadlineNanos) throws InterruptedException {
        synchronized (localsMonitor) {
            while (true) {
                int pendingNow;
                pendingLock.lock();
                try {
                    drainLocals();
                    pendingNow = pending == null ? 0 : pending.pendingCount();
                } finally {
                    pendingLock.unlock();
                }
                long left = deadlineNanos - System.nanoTime();
                if (pendingNow == 0 || left <= 0) {
                    return pendingNow == 0;
                }
                TimeUnit.NANOSECONDS.timedWait(localsMonitor, Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
            }
        }
    }

    CaptureSync captureSync() {
        return sync;
    }

    Applier applier() {
        return applier;
    }

    long deliveredGsn() {
        return delivery == null ? 0 : delivery.delivered();
    }

    void appendRecord(byte[] record) {
        appendUnsequenced("a donor's record", record);
    }

    /** Appends a record the group never deduplicates (origin sequence 0), behind every record submitted before it. */
    private void appendUnsequenced(String what, byte[] record) {
        try {
            appends.submit(what, () -> new Appender.Item(0, record));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.info("domain {}: interrupted while queueing {} for the group; it is not appended", database, what);
        }
    }

    /**
     * Appends a read barrier for {@code chorus.sync_wait()}. It follows every local changeset captured before it (same
     * queue), so once this node has applied its GSN, everything ordered before the call is in this database.
     */
    private void requestBarrier(String token) {
        Group g = group;
        // an intent orders DDL against DDL only: it need not wait behind local commits, but it needs the group
        if (token.startsWith(DdlOrder.INTENT) && g != null) {
            try {
                g.append(0, LogRecord.encode(new LogRecord.Barrier(cfg.node(), token), codec)).whenComplete((gsn, e) -> {
                    if (e != null) {
                        queueIntent(token, e);
                    }
                });
            } catch (RuntimeException e) {
                queueIntent(token, e);
            }
            return;
        }
        queueBarrier(token);
    }

    /**
     * A DDL intent the group refused at once goes behind the queued commits (a second copy is ignored: DdlOrder), from
     * the timer thread: the refusal completes on a group thread, which must not wait for the appender.
     */
    private void queueIntent(String token, Throwable why) {
        LOG.info("DDL intent {} was not appended at once ({}); it is queued behind this node's commits", token,
                why.getMessage());
        try {
            watermarkTimer.execute(() -> queueBarrier(token));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.info("domain {} closed: DDL intent {} is not appended (its session's DDL waits until its timeout)",
                    database, token);
        }
    }

    /** Before the group is joined the barrier is held, in capture order, until the appends open. */
    private void queueBarrier(String token) {
        appendUnsequenced("barrier " + token,
                LogRecord.encode(new LogRecord.Barrier(cfg.node(), token), codec));
    }

    /** Read barriers of this node that have been ordered: token → GSN. The caller removes the ones it answered. */
    public java.util.Map<String, Gsn> orderedBarriers() {
        return delivery == null ? java.util.Map.of() : delivery.barriers();
    }

    /** One INFO line per period with conflicts (each losing changeset is at DEBUG, each lost row in the table). */
    private void reportConflicts() {
        Delivery d = delivery;
        String s = d == null ? null : d.takeConflictSummary();
        if (s != null) {
            LOG.info("conflicts over the last {} s: {}", CONFLICTS_EVERY_MS / 1000, s);
        }
    }

    private void reportLatency() {
        if (latency != null) {
            String s = latency.summary();
            if (s != null) {
                LOG.debug("latency since the origin's commit over {} s: {}", LATENCY_EVERY_MS / 1000, s);
            }
            Applier a = applier;
            String phases = a == null ? null : a.phases();
            if (phases != null) {
                LOG.debug("applier over {} s: {}", LATENCY_EVERY_MS / 1000, phases);
            }
        }
    }

    private void submit(ApplyUnit unit) {
        if (latency != null && unit.originCommitTime() != null) {
            latency.delivered(unit.gsn(), unit.originCommitTime(), unit.local());
        }
        schemaChanges.delivered(unit);
        try {
            applier.submit(unit);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ChorusException("interrupted while handing GSN " + unit.gsn() + " to the applier", e);
        }
    }

    public Gsn appliedGsn() {
        return applier == null ? Gsn.NONE : applier.appliedGsn();
    }

    /**
     * Reports this node's watermark to the group (the certifier's purge horizon is the minimum over the members). The
     * value must never pass the deps of a local changeset still to be certified, including one that committed but
     * was not decoded yet: W is read first, then the capture is synchronised (every local commit before that point is
     * now in the tracker; later ones have deps >= W), and the report is min(W, lowest deps in flight). Runs on its
     * own timer thread: a capture sync never blocks an apply or delivery thread.
     */
    private void reportWatermark() {
        if (appender == null || pending == null || state != DomainState.ONLINE) {
            return;
        }
        Gsn w = applier.appliedGsn();
        try {
            sync.await(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        } catch (ChorusException e) {
            LOG.debug("watermark report skipped: {}", e.getMessage());
            return;
        }
        Gsn report;
        pendingLock.lock();
        try {
            drainLocals();
            report = Gsn.min(w, pending.minPendingDeps());
        } finally {
            pendingLock.unlock();
        }
        if (report.value() <= lastWatermarkSent) {
            return;
        }
        lastWatermarkSent = report.value();
        appendUnsequenced("watermark " + report, LogRecord.encode(new LogRecord.Watermark(cfg.node(), report), codec));
    }

    /**
     * What a forced bootstrap from this node would do and lose; null before the domain joined its group. Non-blocking.
     */
    public BootstrapAssessment bootstrapPlan() {
        Group g = group;
        return g == null ? null : BootstrapAssessment.of(g.bootstrapPlan());
    }

    /**
     * Restarts the group from this node alone after a majority of its voters was lost for good (DESIGN §7; the
     * design is in {@link Group#forceBootstrap}): confirmed, never automatic. The domain takes over the new handle
     * everywhere it uses its group ({@link ForcedTakeOver}). Blocks up to the group's join timeout plus the append
     * timeout per voter added back; one at a time.
     *
     * @return the assessment it acted on
     * @throws ChorusException refused (nothing changed: the message says why and what to do), or failed (the domain
     *     is then FAILED)
     */
    public synchronized String forceBootstrap() {
        Group old = group;
        DomainState now = state;
        if (old == null || (now != DomainState.NON_PRIMARY && now != DomainState.ONLINE)) {
            throw new ChorusException("database " + database + " is " + now + " (" + status().phase() + "): a forced "
                    + "bootstrap needs a domain that joined its group and waits for a primary component (NON_PRIMARY); "
                    + "see chorus.status()");
        }
        ForcedTakeOver takeOver = new ForcedTakeOver(old, groupListener(), Gsn.of(delivery.delivered()),
                () -> delivery.delivered());
        Group g;
        try {
            g = takeOver.run();
        } catch (io.chorus.gcs.GcsException e) {
            if (e.kind() == io.chorus.gcs.GcsException.Kind.REFUSED) {
                throw new ChorusException(e.getMessage(), e);
            }
            ChorusException failed = new ChorusException("forced bootstrap of database " + database + " failed: "
                    + e.getMessage(), e);
            fail(failed);
            throw failed;
        }
        group = g;
        if (closed.get()) { // closed while the bootstrap ran: its close saw the old handle
            g.close();
            throw new ChorusException("database " + database + " was stopped during its forced bootstrap; the group's "
                    + "log has this node as its only voter: it restarts from it");
        }
        membershipChanged(g.membership());
        storeHistory(g.history()); // stored by its delivery already, unless that store failed
        g.announceWatermark(appliedGsn());
        for (String token : takeOver.ddlForgets()) {
            appendRecord(LogRecord.encode(new LogRecord.Barrier(cfg.node(), token), codec));
        }
        LOG.warn("domain {}: forced bootstrap done: {} in group {} at GSN {}", database, state, groupName,
                g.appliedGsn());
        return takeOver.assessment();
    }

    private void membershipChanged(Membership m) {
        membership = m;
        if (state != DomainState.ONLINE && state != DomainState.NON_PRIMARY) {
            return; // still starting (the start decides the first live state) or stopped
        }
        DomainState next = m.primary() ? DomainState.ONLINE : DomainState.NON_PRIMARY;
        if (next != state) {
            LOG.info("domain {}: {} -> {} ({})", database, state, next, m);
            state = next;
        }
    }

    private void fail(ChorusException e) {
        if (closing) {
            LOG.debug("domain {} closing; ignoring: {}", database, e.getMessage());
            return;
        }
        if (state == DomainState.FAILED) {
            return;
        }
        lastError = e.getMessage();
        state = DomainState.FAILED;
        LOG.error("domain {} FAILED: {}", database, e.getMessage());
        releaseCapture();
        onFailure.accept(e);
    }

    /**
     * A FAILED domain lets go of its replication connection at once, on a thread of its own (the failure may come from
     * the capture's thread): a shutdown of PostgreSQL waits for the logical walsender, which waits until the capture
     * confirms everything it sent, which it never does once the domain stopped applying. The capture confirms only
     * what it may (a restart re-decodes the rest).
     */
    private void releaseCapture() {
        SlotCapture c = capture;
        if (c != null) {
            Thread t = new Thread(c::close, "chorus-release-capture-" + database);
            t.setDaemon(true);
            t.start();
        }
    }

    public DomainState state() {
        return state;
    }

    public DomainStatus status() {
        Membership m = membership;
        Group g = group;
        List<DomainStatus.Member> members = MembershipView.members(cfg, groupName, m,
                g == null ? Map.of() : g.announcedWatermarks());
        long delivered = delivery == null ? 0 : delivery.delivered();
        long applied = appliedGsn().value();
        String detail = state == DomainState.NON_PRIMARY ? exchange.text() : transferPhase;
        String phase = (state == DomainState.RECEIVING || state == DomainState.CATCHING_UP
                || state == DomainState.NON_PRIMARY) && detail != null ? detail : state.name().toLowerCase();
        return new DomainStatus(cfg.node().value(), groupName, state, phase,
                m == null ? null : Long.toString(m.viewId()), m != null && m.primary(), mode.name().toLowerCase(),
                // outside the primary component: sync commits wait for the heal (synchronous replication waits for
                // this node's capture); async ones are accepted and certified after the merge
                mode == NodeConfig.Mode.SYNC ? "wait" : "accept", applied, delivered,
                applier == null ? 0 : applier.queueDepth(), Math.max(0, delivered - applied),
                lagClock.lagMillis(applied, delivered, System.nanoTime()),
                conflictsBefore + (delivery == null ? 0 : delivery.conflicts()), members, lastError);
    }

    private Connection connect() throws SQLException {
        return cfg.postgres().connect(database, "chorus-control");
    }

    private ApplierConfig applierConfig() {
        return ApplierConfig.builder(jdbcUrlWithCredentials()).poolSize(cfg.helpers()).originPrefix(helperPrefix)
                .holdAfterRaces(cfg.holdAfterRaces()).holdTimeout(cfg.holdTimeout())
                .pendingRows((rel, identity) -> {
                    pendingLock.lock();
                    try {
                        if (pending == null) {
                            return false;
                        }
                        drainLocals();
                        return pending.isPendingRow(rel, identity);
                    } finally {
                        pendingLock.unlock();
                    }
                })
                .guard(guard)
                .build();
    }

    private CaptureConfig captureConfig() {
        return new CaptureConfig(jdbcUrlWithCredentials(), database, cfg.node(), CaptureConfig.defaultSlotName(database),
                CaptureConfig.DEFAULT_PUBLICATION, helperPrefix, CaptureConfig.DEFAULT_SPILL_THRESHOLD,
                captureStateDir(cfg, database));
    }

    /** Deletes the capture state of a dropped slot, so that the next capture starts from a fresh one. */
    public static void forgetCaptureState(NodeConfig cfg, String database) {
        RejoinPreparation.forget(captureStateDir(cfg, database));
    }

    /** Where the capture of {@code database} keeps its state (its position in the slot): meaningless once the slot is dropped. */
    public static java.nio.file.Path captureStateDir(NodeConfig cfg, String database) {
        return cfg.dataDir().resolve(database).resolve("capture");
    }

    /** Where local records wait for the group beyond the append queue's memory bound (a cache: the slot has them). */
    /** Where the changesets replayed at a start wait for the pending-row rebuild ({@link ReplaySpill}). */
    static java.nio.file.Path replaySpillFile(NodeConfig cfg, String database) {
        return cfg.dataDir().resolve(database).resolve("replay-spill").resolve("verdicts.spill");
    }

    /** Sync mode's copy of the own changesets released from the slot before their apply ({@link OwnReleases}). */
    static java.nio.file.Path ownReleasesFile(NodeConfig cfg, String database) {
        return cfg.dataDir().resolve(database).resolve("own-releases").resolve("released.log");
    }

    static java.nio.file.Path appendSpillFile(NodeConfig cfg, String database) {
        return cfg.dataDir().resolve(database).resolve("append-spill").resolve("records.spill");
    }

    /** The database's JDBC URL with credentials (never logged: the components mask it). */
    private String jdbcUrlWithCredentials() {
        return cfg.postgres().jdbcUrlWithCredentials(database);
    }

    /** Stops every part; idempotent (a domain that failed may be closed at once and again at its restart). */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        DomainState before = state;
        closing = true;
        state = DomainState.OFFLINE;
        watermarkTimer.shutdownNow();
        closeQuietly(recovery);
        // the applier first, while the capture still answers its syncs: in-flight batches finish or roll back at
        // once instead of waiting for a sync that a closed capture can no longer report
        closeQuietly(applier);
        closeQuietly(capture);
        closeQuietly(sync);
        closeQuietly(appender);
        appends.close(); // after the appender: a submitter it holds back is let go first
        if (delivery != null) {
            delivery.abandon(); // a join still applying this member's log must not wait for a start that failed
        }
        if (joining != null) {
            joining.closeWhenJoined();
        }
        closeQuietly(group); // idempotent; after a forced bootstrap it is not the joined one
        closeQuietly(enricher);
        closeQuietly(ddlOrder);
        closeQuietly(ownReleases);
        LOG.info("domain {} stopped (was {})", database, before);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.warn("closing {}: {}", c.getClass().getSimpleName(), e.getMessage());
        }
    }
}
