package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.nio.file.Files;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.JChannel;
import org.jgroups.raft.Options;
import org.jgroups.raft.RaftHandle;

/**
 * One member's handle on a group's replicated, totally ordered log (JGroups for transport, membership, failure
 * detection and merges; jgroups-raft for the log). Records appended by any member are delivered to every member's
 * {@link GroupListener} in one order, numbered by GSN: contiguous from 1, identical everywhere, continued across
 * restarts. Only a primary component (a majority of the voters) commits.
 *
 * <p>Thread-safe. {@link #append} does not wait for the commit (it blocks only while the send queue is full);
 * {@link #join}, {@link #addMember}, {@link #removeMember}, {@link #forceBootstrap} and {@link #close} block, each
 * bounded. The design is in
 * this package's {@code package-info}.
 */
public final class Group implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(Group.class);

    private final GroupConfig cfg;
    private final Credentials credentials;
    private final Deliverer deliverer;
    private final LogStateMachine stateMachine;
    private final MembershipMonitor monitor;
    private final Sender sender;
    private final Retention retention;
    private final Announcements announcements;
    private JChannel channel;
    private RaftHandle raft;
    private MembershipView view;
    private volatile UUID storedIdentity;
    private volatile boolean closed;

    private Group(GroupConfig cfg, GroupListener listener, Gsn resumeAfter, UUID identity) {
        this.cfg = cfg;
        this.deliverer = new Deliverer(cfg.self(), listener, resumeAfter, cfg.queueCapacity());
        this.stateMachine = new LogStateMachine(deliverer, cfg.catalog());
        this.credentials = new Credentials(cfg, identity, stateMachine::history, stateMachine::appliedGsn);
        this.monitor = new MembershipMonitor("chorus-gcs-watch-" + cfg.self(), this::computeMembership,
                deliverer::membership);
        this.sender = new Sender(cfg, this::submit, monitor);
        this.retention = new Retention(cfg, () -> raft);
        this.announcements = new Announcements(cfg.self(), stateMachine::appliedGsn);
    }

    /**
     * Joins (or, for the first member, forms) the group and starts delivering records with GSN above
     * {@code resumeAfter} (replayed from the local log first, then from the group). Blocks until the member is
     * connected (bounded by the stack's join timeout).
     *
     * @throws GcsException REFUSED when the group refuses this member (identity, protocol version, credential, a
     *     history it cannot join), with the reason; PAST_FORK when this member holds GSNs past a fork of the group's
     *     newer history; FAILED when the stack cannot start (e.g. the port is taken)
     */
    public static Group join(GroupConfig cfg, GroupListener listener, Gsn resumeAfter) {
        return join(cfg, listener, resumeAfter, null);
    }

    /**
     * {@link #join(GroupConfig, GroupListener, Gsn)} for a member whose data beside the log (its database) holds
     * {@code database}: the history line it belongs to and the last GSN it applied. The member presents the newer
     * of that and its copy of the log ({@link History#present}), so that emptying the group data directory does not
     * pass a database of an older history off as a new member.
     *
     * @throws GcsException as above; REFUSED at once when the log and the database hold diverged lines
     */
    public static Group join(GroupConfig cfg, GroupListener listener, Gsn resumeAfter, History.Held database) {
        LOG.info("joining group: {} (resume after GSN {}{})", cfg, resumeAfter,
                database == null ? "" : ", database holds " + database.line() + " up to GSN " + database.gsn());
        UUID identity = IdentityFile.reconcile(cfg);
        Group g = new Group(cfg, listener, resumeAfter, identity);
        g.credentials.database(database);
        try {
            g.start();
            return g;
        } catch (SecurityException e) {
            g.close();
            LOG.error("{}", e.getMessage());
            GcsException.Kind kind = g.credentials.refusalCode() == RefusalHeader.PAST_FORK
                    ? GcsException.Kind.PAST_FORK : GcsException.Kind.REFUSED;
            throw new GcsException(kind, e.getMessage(), e);
        } catch (GcsException e) {
            g.close();
            throw e;
        } catch (Exception e) {
            g.close();
            throw new GcsException(GcsException.Kind.FAILED, "cannot join group '" + cfg.groupName() + "' as "
                    + cfg.self() + ": " + e.getMessage() + " (check that " + cfg.selfMember().host() + ":"
                    + cfg.selfMember().port() + " is free and the data directory " + cfg.dataDir()
                    + " is writable)", e);
        }
    }

    private void start() throws Exception {
        Files.createDirectories(cfg.dataDir());
        deliverer.start();
        channel = StackFactory.create(cfg, credentials);
        FaultHook.opening(this, channel);
        channel.setReceiver(announcements);
        raft = new RaftHandle(channel, stateMachine);
        view = new MembershipView(channel, raft);
        channel.connect(cfg.groupName());
        refuseDivergedDatabase();
        stateMachine.live();
        if (credentials.identity() == null && channel.getView().size() == 1 && cfg.createsIdentity()) {
            credentials.adopt(UUID.randomUUID());
            LOG.info("formed a new group '{}' with identity {}", cfg.groupName(), credentials.identity());
        }
        persistIdentity();
        monitor.every(200, this::persistIdentity);
        monitor.start();
        sender.start();
        monitor.every(retention.periodMillis(), retention::check);
        monitor.every(1_000, () -> announcements.send(channel));
        if (cfg.readmitsMembers()) {
            Readmission readmission = new Readmission(cfg, () -> raft, this::membership);
            monitor.every(1_000, readmission::check);
        }
        LOG.info("joined group '{}' as {}; identity {}, {}, log applied up to GSN {}", cfg.groupName(), cfg.self(),
                credentials.identity(), stateMachine.history(), stateMachine.appliedGsn());
    }

    /**
     * A database whose line diverged from its copy of the log's (a group folder of another side put in place) joins
     * nowhere: neither can be trusted to say what the data holds. Checked once the
     * log was read (at connect: the group cannot tell, it sees only the log's line then); the member leaves at once.
     */
    private void refuseDivergedDatabase() {
        History.Held db = credentials.databaseHeld();
        if (db != null && History.present(stateMachine.history(), stateMachine.appliedGsn(), db.line(), db.gsn())
                .isEmpty()) {
            throw new GcsException(GcsException.Kind.REFUSED, "member " + cfg.self() + " of group '"
                    + cfg.groupName() + "': its database holds " + db.line() + " up to GSN " + db.gsn() + ", but its "
                    + "group data directory " + cfg.dataDir() + " holds " + stateMachine.history() + " up to GSN "
                    + stateMachine.appliedGsn() + ": the two histories diverged. Move that directory away and let "
                    + "the member rejoin by a full transfer");
        }
    }

    /** Stores the identity once known (adopted at join, or later through a merge). */
    private void persistIdentity() {
        UUID id = credentials.identity();
        if (id != null && !id.equals(storedIdentity)) {
            IdentityFile.store(cfg, id);
            storedIdentity = id;
        }
    }

    private CompletableFuture<byte[]> submit(byte[] entry) throws Exception {
        return raft.setAsync(entry, 0, entry.length, Options.create(false));
    }

    private Membership computeMembership() {
        return view.compute();
    }

    /**
     * Appends one record. The future completes with the record's GSN once the record is committed (stored on a
     * majority), or with {@link Gsn#NONE} if it was a duplicate of a record delivered earlier (originSeq at or below
     * the origin's last delivered one) whose GSN this member does not know. It fails with a {@link GcsException}:
     * TIMEOUT after the configured append timeout (the record may still be committed: retry the same records in
     * order), CLOSED when the group is closed. Records of one member are committed in the order of their appends.
     *
     * @param originSeq the caller's sequence number for this record, increasing per origin; 0 = never deduplicated
     */
    public CompletableFuture<Gsn> append(long originSeq, byte[] payload) {
        return append(originSeq, payload, Map.of());
    }

    /**
     * Appends one record that brings catalog entries: opaque definitions, by id, that every member holds from the
     * moment it applies the committed record on ({@link #catalog()}), and that snapshots keep. An id must name one
     * content only (content-addressed ids); a member keeps the first bytes it learned for an id.
     *
     * @see #append(long, byte[])
     */
    public CompletableFuture<Gsn> append(long originSeq, byte[] payload, Map<Long, byte[]> catalogEntries) {
        if (originSeq < 0) {
            throw new IllegalArgumentException("originSeq must be >= 0, got " + originSeq);
        }
        if (closed) {
            return CompletableFuture.failedFuture(new GcsException(GcsException.Kind.CLOSED, "group '"
                    + cfg.groupName() + "' member " + cfg.self() + " is closed; join again to append"));
        }
        return sender.append(originSeq, payload, catalogEntries);
    }

    /**
     * After an append failed, every later append fails too (so that this member's records are never committed out of
     * order) until this call; then send again, in order, from the first record that was not confirmed.
     */
    public void resumeAppends() {
        sender.resume();
    }

    /**
     * The catalog entries of every record this member has applied (committed), whatever it started from: its own log,
     * a snapshot, or the leader's. Only grows. Thread-safe.
     */
    public DefinitionCatalog catalog() {
        return cfg.catalog();
    }

    /** Whether this member is in the primary component now (a leader is known and a majority of voters present). */
    public boolean isPrimary() {
        return !closed && view != null && view.compute().primary();
    }

    /** The membership as this member sees it now. */
    public Membership membership() {
        return view == null ? monitor.current() : view.compute();
    }

    /** This member's node id. */
    public NodeId self() {
        return cfg.self();
    }

    /** The group's identity, once known (configured, stored, adopted or created). */
    public Optional<UUID> groupIdentity() {
        return Optional.ofNullable(credentials.identity());
    }

    /**
     * The history line of this member's copy of the log, as far as it applied it: {@link History#FIRST} until a
     * forced bootstrap, then one fork per forced bootstrap. Members in an older history that hold GSNs beyond the
     * fork are refused at join. Non-blocking.
     */
    public History history() {
        return stateMachine.history();
    }

    /** The highest GSN assigned by this member's copy of the log (it may lag the leader's). */
    public Gsn appliedGsn() {
        return Gsn.of(stateMachine.appliedGsn());
    }

    /**
     * The highest positive originSeq of {@code origin} delivered so far in this member's copy of the log, snapshots
     * included (0 if none). An origin's records are committed in the order of its appends and later ones at or below
     * it are dropped as duplicates: every record of that origin with an originSeq at or below it was ordered.
     */
    public long lastDeliveredSeq(NodeId origin) {
        return stateMachine.lastSeq(origin.value());
    }

    /** Counters for status reports and metrics; cheap, non-blocking. */
    public GroupStats stats() {
        return sender.stats(stateMachine.appliedGsn(), deliverer.delivered(), deliverer.queueDepth(),
                deliverer.heldMillis());
    }

    /**
     * Stops ({@code true}) or resumes this member's compaction of its own log by age. A member that joins only to
     * receive a full transfer holds it: the records its domain replays after the copy must still be in this member's
     * log when the domain joins, whatever the copy took. Compaction by size (jgroups-raft's) goes on. Non-blocking.
     */
    public void holdCompaction(boolean hold) {
        retention.hold(hold);
    }

    /**
     * Tells the other members this member's W (the highest GSN reflected in its database): multicast once a second
     * beside the log, so that members compare them even without a primary component (a whole-cluster restart).
     * Non-blocking.
     */
    public void announceWatermark(Gsn w) {
        announcements.announce(w);
    }

    /**
     * The last W announced by every member present in this member's view now, this one's included (members that
     * announced none yet are missing). Non-blocking.
     */
    public java.util.Map<NodeId, Gsn> announcedWatermarks() {
        java.util.Map<NodeId, Gsn> all = announcements.latest();
        all.keySet().retainAll(membership().present());
        return all;
    }

    /**
     * What a forced bootstrap from this member would keep and lose: its W and log GSN against those every member seen
     * since it joined announced, the voters missing, and whether a present member is ahead. Non-blocking.
     */
    public BootstrapPlan bootstrapPlan() {
        Membership m = membership();
        Map<NodeId, BootstrapPlan.Position> seen = announcements.positions();
        BootstrapPlan.Position own = seen.getOrDefault(cfg.self(), new BootstrapPlan.Position(Gsn.NONE, appliedGsn()));
        return new BootstrapPlan(cfg.self(), own, m.voters(), m.present(), seen, m.primary());
    }

    /**
     * Restarts the group from this member alone, after a majority of its voters was lost for good: the only way a
     * minority starts a new history, never automatic. Refused (REFUSED, nothing changed, the decision logged) while a
     * primary component exists, while a present member is ahead of this one (its name and position in the message:
     * run it there), and unless {@code confirmed} (the message then says what would be lost). Otherwise this handle
     * is closed, this member's log is rewritten so that it is the only voter ({@code ForcedBootstrap}), the member
     * joins again with {@code listener} and {@code resumeAfter} (records in its log beyond {@code resumeAfter} are
     * delivered, new ones numbered after them), and the other voters present are added back, one at a time. The
     * missing voters are no longer voters: they can come back only by a full transfer. Blocks up to the stack's join
     * timeout plus the append timeout per voter added back.
     *
     * @return the new handle of this member, primary
     * @throws GcsException REFUSED as above; FAILED when the log cannot be rewritten or the member does not become
     *     primary within the append timeout
     */
    public Group forceBootstrap(boolean confirmed, GroupListener listener, Gsn resumeAfter) {
        BootstrapPlan plan = bootstrapPlan();
        Optional<String> refusal = plan.refusal(confirmed);
        if (refusal.isPresent()) {
            LOG.warn("forced bootstrap of group '{}' refused: {}", cfg.groupName(), refusal.get());
            throw new GcsException(GcsException.Kind.REFUSED, refusal.get());
        }
        LOG.warn("forced bootstrap of group '{}' confirmed: {}", cfg.groupName(), plan.describe());
        long agreed = stateMachine.appliedGsn();
        close();
        Set<NodeId> others = new TreeSet<>(plan.voters());
        cfg.members().forEach(m -> others.add(m.id()));
        others.remove(cfg.self());
        try {
            ForcedBootstrap.shrinkToSelf(cfg, others, agreed);
        } catch (Exception e) {
            throw new GcsException(GcsException.Kind.FAILED, "forced bootstrap of group '" + cfg.groupName()
                    + "': the log of " + cfg.self() + " in " + cfg.dataDir() + " could not be rewritten: " + e
                    + "; nothing was started, the log is as before or fully rewritten: try again", e);
        }
        Group g = join(cfg, listener, resumeAfter);
        g.awaitPrimary();
        for (NodeId n : plan.voters()) {
            if (!n.equals(cfg.self()) && plan.present().contains(n)) {
                g.addBack(n);
            }
        }
        LOG.warn("forced bootstrap of group '{}' done: {} restarted the group at GSN {} in {}; voters now {}; {} removed",
                cfg.groupName(), cfg.self(), g.appliedGsn().value(), g.history(), g.membership().voters(),
                plan.missingVoters());
        return g;
    }

    private void awaitPrimary() {
        long end = System.nanoTime() + cfg.appendTimeout().toNanos();
        try {
            while (!isPrimary()) {
                long version = monitor.version();
                long left = end - System.nanoTime();
                if (left <= 0 || (!monitor.awaitChange(version, left) && !isPrimary())) {
                    close();
                    throw new GcsException(GcsException.Kind.FAILED, "forced bootstrap of group '"
                            + cfg.groupName() + "': " + cfg.self() + " did not become primary within "
                            + cfg.appendTimeout().toMillis() + " ms (" + membership() + "); its log now has it as "
                            + "the only voter: join again to retry");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GcsException(GcsException.Kind.FAILED, "forced bootstrap interrupted while waiting to be "
                    + "primary", e);
        }
    }

    /** Adds a voter present at the forced bootstrap back; on failure says how to add it later. */
    private void addBack(NodeId n) {
        try {
            Reconfiguration.change(raft, cfg, n, true);
        } catch (GcsException e) {
            LOG.warn("forced bootstrap of group '{}': {} was present but could not be added back as a voter ({}); "
                    + "add it with addMember once it is up", cfg.groupName(), n, e.getMessage());
        }
    }

    /** The first GSN still in this member's log: records below it exist only in snapshots (full transfer). */
    public Gsn firstAvailable() {
        return Gsn.of(stateMachine.snapshotGsn() + 1);
    }

    /**
     * Adds a voter to the log's configuration (blocks until committed, bounded by the append timeout). Start the new
     * member first (with the new member list), then add it: the leader catches it up in chunks while it goes on
     * committing (measured: about 1,000 entries in 0.1 s under load, in-JVM). Until it has caught up it counts towards
     * the majority without storing anything, so commits go on only while the other voters are up (3 of 4 after adding
     * a fourth): add members when the group is healthy, one at a time.
     */
    public void addMember(Member m) {
        Reconfiguration.change(raft, cfg, m.id(), true);
    }

    /** Removes a voter from the log's configuration (blocks until committed, bounded by the append timeout). */
    public void removeMember(NodeId n) {
        Reconfiguration.change(raft, cfg, n, false);
    }

    /** Fault injection inside the real stack, for tests. */
    public FaultHook faults() {
        return new FaultHook(this, channel);
    }

    /** Leaves the group cleanly: fails queued appends (CLOSED), stops delivery, closes the channel. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        FaultHook.closed(this);
        sender.close();
        monitor.close();
        deliverer.close();
        if (channel != null) {
            channel.close();
        }
        LOG.info("left group '{}' as {} at GSN {}", cfg.groupName(), cfg.self(), stateMachine.appliedGsn());
    }

    /** Whether the file log forces entries to disk (tests check that the configuration reached jgroups-raft). */
    boolean logUsesFsync() {
        return raft.raft().logUseFsync();
    }

    /** Bytes of log entries this member sent followers again as its log's leader (tests). */
    long resentBytes() {
        return ((CatchUpRaft) raft.raft()).resentBytes();
    }

    /** The log's role here (Leader, Follower or Learner) and the majority it counts commits with (tests). */
    String logRole() {
        return raft.raft().role() + "/" + raft.raft().majority();
    }

    GroupConfig config() {
        return cfg;
    }

    /** The log's retention by age (its check runs every {@link Retention#periodMillis()} on the monitor). */
    Retention retention() {
        return retention;
    }
}
