package io.chorus.recovery;

import io.chorus.schema.SchemaFingerprint;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.RelationName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The joiner side of a full transfer (DESIGN §7). While it is a member of the group (so that it can append and see
 * the donor's answer), it asks for a snapshot ({@link TransferMessage.Request}), waits for the {@link
 * TransferMessage.Offer}, then, from the donor's PostgreSQL (reached at the address in the offer with this node's own
 * credentials): adapts the schema ({@link SchemaAdaption}), empties its replicated tables, copies them in parallel
 * ({@link TableCopier}), sets the sequences, copies the conflict log up to the snapshot's GSN and sets W to it, all
 * before the domain starts its capture (so the copied rows are never captured as local commits). A silent donor or a
 * failed copy moves on to the next candidate, a bounded number of times. Until W is set, {@code chorus.meta} says that
 * a transfer is incomplete, so a crash in between starts it over.
 *
 * <p>Thread-safe: {@link #onRecord} is called on the group's delivery thread, {@link #run} on the caller's (it blocks
 * until the transfer ends, every wait bounded).
 */
public final class Transfer {
    private static final Logger LOG = LogManager.getLogger(Transfer.class);
    private static final String MARKER = "transfer_incomplete";
    private static final String CONFLICT_COLUMNS =
            "gsn, change_index, kind, loser_origin, winner_gsn, winner_origin, relation, key, cause_gsn, recorded_at";

    /** The joiner's view of the group during the transfer. */
    public interface Membership {
        /** Appends a record to the group's log. */
        void append(byte[] record);

        /** A member to suggest as donor when the log names none yet (e.g. the leader), or null. */
        NodeId preferredDonor();
    }

    /** Connects to a donor's database with this node's credentials. */
    @FunctionalInterface
    public interface DonorConnector {
        Connection connect(String host, int port, String database, String applicationName) throws SQLException;
    }

    /** The outcome: W is now {@code gsn}. */
    public record Result(NodeId donor, Gsn gsn, TransferProgress progress) {
    }

    private final NodeId self;
    private final Connector local;
    private final DonorConnector donors;
    private final String originPrefix;
    private final Consumer<TransferProgress> progress;
    private final BlockingQueue<TransferMessage.Offer> offers = new ArrayBlockingQueue<>(64);
    /** Set when this member's log skipped records (a snapshot replaced them): an offer among them is lost. */
    private volatile String skipped;

    /** @param originPrefix the prefix of the domain's helper origins: W is recorded under the first helper's name */
    public Transfer(NodeId self, Connector local, DonorConnector donors, String originPrefix,
                    Consumer<TransferProgress> progress) {
        this.self = self;
        this.local = local;
        this.donors = donors;
        this.originPrefix = originPrefix;
        this.progress = progress;
    }

    /**
     * Whether this database needs a full transfer before it can join: one was requested ({@code
     * chorus.request_full_transfer()}, or by the domain when the log no longer held what it needed) or left
     * incomplete; or it never applied anything (W = 0), does not bootstrap the group and has no replicated table at
     * all. A new node whose tables exist but are empty joins from the group's log unless a transfer is requested: a
     * group formed from empty databases has its whole history in the log. Blocking.
     */
    public static boolean needed(Connection c, Gsn w, boolean bootstrap) throws SQLException {
        if (incomplete(c)) {
            return true;
        }
        return w.value() == 0 && !bootstrap && UserTables.list(c).isEmpty();
    }

    private static boolean incomplete(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT to_regclass('chorus.meta') IS NOT NULL AND EXISTS (SELECT 1 FROM chorus.meta WHERE key = '" + MARKER + "')")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /**
     * Records that this database must be replaced by a full transfer at its next start (the group's log no longer
     * holds what it needs), with the reason. Blocking; commits when the connection is in auto-commit mode.
     */
    public static void markNeeded(Connection c, String reason) throws SQLException {
        mark(c, "rejoin: " + reason);
    }

    /** Why a transfer is pending ({@link #markNeeded} or an interrupted transfer), or null. Blocking. */
    public static String pendingReason(Connection c) throws SQLException {
        if (!incomplete(c)) {
            return null;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT value FROM chorus.meta WHERE key = ?")) {
            ps.setString(1, MARKER);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** Every record the joiner's membership delivers; keeps the offers addressed to this node. */
    public void onRecord(byte[] payload) {
        if (TransferMessage.isTransfer(payload) && TransferMessage.decode(payload) instanceof TransferMessage.Offer o
                && o.joiner().equals(self) && !offers.offer(o)) {
            LOG.warn("dropped a transfer offer from {}: too many unanswered offers", o.donor());
        }
    }

    /**
     * This member's copy of the log jumped over records (the leader sent it a snapshot): an offer ordered among them
     * never arrives, so the request waiting now is asked again at once instead of timing out.
     */
    public void onRecordsSkipped(String reason) {
        skipped = reason;
    }

    /** Runs the transfer (see the class comment); throws with the last reason after {@code attempts} failures. */
    public Result run(Membership group, Duration perAttempt, int attempts) throws InterruptedException {
        String last = "no attempt made";
        java.util.Set<String> asked = new java.util.HashSet<>();
        for (int attempt = 0; attempt < attempts; attempt++) {
            String id = UUID.randomUUID().toString();
            asked.add(id);
            NodeId preferred = group.preferredDonor();
            LOG.info("full transfer: requesting a snapshot (request {}, attempt {} of {}, suggested donor {})", id,
                    attempt + 1, attempts, preferred);
            skipped = null;
            group.append(TransferMessage.encode(new TransferMessage.Request(self, id, attempt, preferred)));
            TransferMessage.Offer offer = awaitOffer(group, id, asked, perAttempt);
            String skip = skipped;
            if (offer == null && skip != null) {
                last = "this member's log skipped records that may hold the offer for request " + id + " (" + skip + ")";
            } else if (offer == null) {
                last = "no donor answered request " + id + " within " + perAttempt.toSeconds() + " s";
            } else if (offer.failed()) {
                last = offer.error();
            } else {
                try {
                    return copyFrom(offer);
                } catch (SQLException | RuntimeException e) {
                    last = "copy from " + offer.donor() + " failed: "
                            + (e instanceof SQLException s ? "[" + s.getSQLState() + "] " : "") + e.getMessage();
                } finally {
                    group.append(TransferMessage.encode(new TransferMessage.Done(self, offer.requestId(), offer.donor())));
                }
            }
            LOG.warn("full transfer attempt {} of {} failed: {}", attempt + 1, attempts, last);
        }
        throw new ChorusException("full transfer failed after " + attempts + " attempts; last: " + last
                + " (check that an ONLINE member's PostgreSQL is reachable from this node with this node's credentials)");
    }

    /**
     * The answer to the current request, or a snapshot offered late for an earlier one of this run (a slow group can
     * deliver it after that request timed out: it is as good); null after the timeout.
     */
    private TransferMessage.Offer awaitOffer(Membership group, String id, java.util.Set<String> asked, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            TransferMessage.Offer o = left <= 0 ? null : offers.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)),
                    TimeUnit.NANOSECONDS);
            if (o == null) {
                if (left <= 0 || skipped != null) {
                    return null;
                }
                continue;
            }
            if (o.requestId().equals(id) || (!o.failed() && asked.contains(o.requestId()))) {
                return o;
            }
            if (!o.failed()) { // an answer to a request of an earlier run: release its snapshot
                group.append(TransferMessage.encode(new TransferMessage.Done(self, o.requestId(), o.donor())));
            }
        }
    }

    private Result copyFrom(TransferMessage.Offer o) throws SQLException, InterruptedException {
        LOG.info("full transfer from {} ({}:{}/{}) at GSN {}, snapshot {}", o.donor(), o.host(), o.port(), o.database(),
                o.gsn(), o.snapshotId());
        Connector donor = app -> donors.connect(o.host(), o.port(), o.database(), app);
        try (Connection src = donor.connect("chorus-transfer-schema"); Connection dst = local.connect("chorus-transfer")) {
            src.setAutoCommit(false);
            try (Statement st = src.createStatement()) {
                st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
                st.execute("SET TRANSACTION SNAPSHOT '" + o.snapshotId().replace("'", "''") + "'");
            }
            DonorSchema schema = SchemaAdaption.read(src);
            mark(dst, "from " + o.donor() + " at GSN " + o.gsn());
            SchemaAdaption.adapt(dst, schema);
            SchemaFingerprint.requireSame(dst, src, "donor " + o.donor() + " at GSN " + o.gsn()); // DESIGN §6
            empty(dst, schema.tables());
            TransferProgress p = new TableCopier(donor, local, o.snapshotId(), 4).copy(schema.tables(), o.donor(), o.gsn(), progress);
            advanceHelperOrigins(dst, o.gsn());
            finish(src, dst, schema, o.gsn());
            src.rollback();
            LOG.info("full transfer from {} done: W = {}; {}", o.donor(), o.gsn(), p.describe());
            return new Result(o.donor(), o.gsn(), p);
        }
    }

    private static void mark(Connection dst, String what) throws SQLException {
        try (PreparedStatement ps = dst.prepareStatement("INSERT INTO chorus.meta (key, value) VALUES ('" + MARKER
                + "', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
            ps.setString(1, what);
            ps.execute();
        }
    }

    /** Empties the joiner's copies of the donor's tables and its conflict log, in one statement (foreign keys allow it). */
    private static void empty(Connection dst, List<DonorSchema.Table> tables) throws SQLException {
        StringBuilder sql = new StringBuilder("TRUNCATE chorus.conflicts");
        tables.forEach(t -> sql.append(", ").append(t.name().quoted()));
        dst.setAutoCommit(false);
        try (Statement st = dst.createStatement()) {
            st.execute("SET LOCAL session_replication_role = replica");
            st.execute(sql.toString());
            dst.commit();
        } catch (SQLException e) {
            dst.rollback();
            throw e;
        } finally {
            dst.setAutoCommit(true);
        }
    }

    /** Gives every sequence the donor's value (a sequence the donor never drew from keeps its start). */
    static void setSequences(Connection dst, DonorSchema schema) throws SQLException {
        for (DonorSchema.Sequence s : schema.sequences()) {
            if (s.lastValue() != null) {
                try (PreparedStatement ps = dst.prepareStatement("SELECT setval(?::regclass, ?, true)")) {
                    ps.setString(1, s.name().quoted());
                    ps.setLong(2, s.lastValue());
                    ps.execute();
                }
            }
        }
    }

    /**
     * Sets the progress of this node's helper origins to {@code gsn} (the first one created if none exists yet): the
     * capture's new slot starts its deps at their highest progress, so local commits after the transfer carry deps W.
     * Without it a joiner's first local commits carried deps 0 (or the W of before a rejoin) until the first helper
     * commit was decoded: below the certifier's low mark they lost as uncertifiable, and a restart could not rebuild
     * the pending rows from a log that starts at the transfer's GSN. Runs before the transaction that sets W: a
     * transfer that fails after it is started again and sets both again ({@code pg_replication_origin_advance} may go
     * backwards, and is WAL-logged).
     */
    private void advanceHelperOrigins(Connection dst, Gsn gsn) throws SQLException {
        String first = originPrefix + "1";
        try (PreparedStatement create = dst.prepareStatement("SELECT pg_replication_origin_create(?) WHERE NOT EXISTS "
                + "(SELECT 1 FROM pg_replication_origin WHERE roname = ?)")) {
            create.setString(1, first);
            create.setString(2, first);
            create.execute();
        }
        try (PreparedStatement advance = dst.prepareStatement("SELECT roname, pg_replication_origin_advance(roname, "
                + "?::pg_lsn) FROM pg_replication_origin WHERE roname ~ ('^' || ? || '[0-9]+$')")) {
            advance.setString(1, gsn.asLsn().toString());
            advance.setString(2, originPrefix);
            try (ResultSet rs = advance.executeQuery()) {
                while (rs.next()) {
                    LOG.debug("helper origin {} advanced to GSN {}", rs.getString(1), gsn);
                }
            }
        }
    }

    /** Sequences, the conflict log up to {@code gsn} and W = {@code gsn}, atomically; clears the incomplete mark. */
    private void finish(Connection src, Connection dst, DonorSchema schema, Gsn gsn) throws SQLException {
        dst.setAutoCommit(false);
        try (Statement st = dst.createStatement()) {
            st.execute("SET LOCAL session_replication_role = replica");
            setSequences(dst, schema);
            long conflicts = TableCopier.copyQuery(src, dst, "SELECT " + CONFLICT_COLUMNS + " FROM chorus.conflicts WHERE gsn <= "
                    + gsn.value(), RelationName.of("chorus", "conflicts"), CONFLICT_COLUMNS);
            try (PreparedStatement ps = dst.prepareStatement("DELETE FROM chorus.apply_progress WHERE origin ~ ('^' || ? || '[0-9]+$')")) {
                ps.setString(1, originPrefix);
                ps.execute();
            }
            try (PreparedStatement ps = dst.prepareStatement("INSERT INTO chorus.apply_progress (origin, gsn) VALUES (?, ?)")) {
                ps.setString(1, originPrefix + "1");
                ps.setLong(2, gsn.value());
                ps.execute();
            }
            st.execute("DELETE FROM chorus.meta WHERE key = '" + MARKER + "'");
            dst.commit();
            LOG.info("W set to GSN {} with {} conflict record(s) and {} sequence(s) from the donor", gsn, conflicts,
                    schema.sequences().size());
        } catch (SQLException | RuntimeException e) {
            dst.rollback();
            throw e;
        } finally {
            dst.setAutoCommit(true);
        }
    }
}
