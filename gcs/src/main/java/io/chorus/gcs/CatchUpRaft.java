package io.chorus.gcs;

import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.jgroups.Address;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.raft.LogEntry;
import org.jgroups.protocols.raft.RAFT;
import org.jgroups.protocols.raft.Role;
import org.jgroups.raft.util.CommitTable;

/**
 * jgroups-raft's RAFT with a catch-up that works while the leader is busy. In jgroups-raft 1.1.4 the leader resends
 * missing entries only when its request queue stayed empty for {@code resend_interval}: under a steady load that never
 * happens, and a restarted, frozen or newly added member stays behind for as long as the load lasts (its rejected
 * AppendEntries put it in one-entry-at-a-time mode at best). Its resend also sends every missing entry in one
 * message, again every interval, which floods a member that is far behind and fills the leader's retransmission
 * buffers.
 *
 * <p>Here the leader also checks its followers while busy, at most once per {@code resend_interval}, and a follower
 * that lacks entries and whose next index did not move for {@value #STALL_MILLIS} ms is sent them in bounded chunks
 * (at most {@value #CHUNK_ENTRIES} entries or {@value #CHUNK_BYTES} bytes), one chunk in flight: the next chunk goes out
 * as soon as the follower answered the previous one (its next index moved), as long as it is at least
 * {@value #NEAR_ENTRIES} entries behind; a chunk that stays unanswered is sent again after
 * {@value #CHUNK_RETRY_MILLIS} ms; a snapshot to a member behind the log's start at most every
 * {@value #SNAPSHOT_RETRY_MILLIS} ms. A follower whose next index moves is left to ordinary replication, however far
 * behind: it is slow, not missing anything, and entries sent to it again would only pile up in front of it. (An earlier
 * version sent a follower a few entries behind all of them again at every check, every 20 ms, whenever its next index
 * had not moved since the last one: under large entries that was megabytes a check, and a follower behind a gap in
 * its unicast channel held them all until it ran out of heap.)
 * Wire format and roles are RAFT's own (same protocol id, same headers). Incoming messages never block the
 * stack's threads ({@link #add}).
 *
 * <p>The catch-up runs on RAFT's single processing thread only (its per-member state is not shared); {@link #add} is
 * called by the stack's threads.
 */
public class CatchUpRaft extends RAFT {
    private static final Logger LOG = LogManager.getLogger(CatchUpRaft.class);
    static final int CHUNK_ENTRIES = 512;
    static final int CHUNK_BYTES = 2 << 20;
    static final long CHUNK_RETRY_MILLIS = 1_000;
    static final long SNAPSHOT_RETRY_MILLIS = 5_000;
    /** A follower this close to the leader's last entry is kept up to date by ordinary replication. */
    static final long NEAR_ENTRIES = 8;
    /**
     * A follower that is behind and whose next index did not move for this long lost something (a message dropped
     * here or on the way, a restart, a freeze): it is sent a chunk. Before that it is only slow to answer, and the
     * entries it lacks are on their way already.
     */
    static final long STALL_MILLIS = 200;

    /** Catch-up state of one follower. */
    private static final class Follower {
        long seenNext = -1;
        /** When {@link #seenNext} last changed (or the follower was first seen). */
        long movedAt;
        long chunkFrom = -1;
        long chunkSentAt;
        long snapshotSentAt;
        long lagAtStart;
        boolean catchingUp;

        Follower(long now) {
            movedAt = now;
        }
    }

    private final Map<Address, Follower> followers = new HashMap<>();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder resentBytes = new LongAdder();
    private long lastCheck;
    private final ConcurrentLinkedQueue<Runnable> logTasks = new ConcurrentLinkedQueue<>();
    /** Bytes of the chunk {@link #chunkEnd} measured last (processing thread only). */
    private long chunkBytes;

    public CatchUpRaft() {
        setId(ClassConfigurator.getProtocolId(RAFT.class));
    }

    /**
     * Queues a message for the processing thread without ever blocking the stack's receiving threads: RAFT blocks
     * them while its queue is full (a busy or slow-consuming member), which stalls heartbeats and the transport too
     * and lets the other members' retransmission buffers grow. A message that finds the queue full is dropped; the
     * leader sends a follower again whatever it misses, and a follower answers again.
     */
    @Override
    protected void add(Request r) {
        if (!processing_queue.offer(r)) {
            dropped.increment();
            LOG.debug("processing queue full ({} requests): dropped {} ({} so far)", processing_queue.size(), r,
                    dropped.sum());
            if (r instanceof DownRequest d) {
                refuse(d);
            }
        }
    }

    /**
     * An append (this member's own, or one a follower forwarded) that did not fit into the queue is answered with a
     * failure at once: its sender sends it again after a short pause. Dropped silently, it stalled its origin's
     * appends until the attempt's deadline (5 s; seen in a bench run as every member's entry "not committed within
     * 5000 ms" at the same moment).
     */
    private void refuse(DownRequest d) {
        CompletableFuture<byte[]> f = requestFuture(d);
        if (f != null) {
            f.completeExceptionally(new IllegalStateException("the log's processing queue is full ("
                    + processing_queue.size() + " requests): append not taken; send it again"));
        }
    }

    /** The future of a queued append (RAFT keeps it package-private); null if this RAFT version has none. */
    @SuppressWarnings("unchecked")
    private static CompletableFuture<byte[]> requestFuture(DownRequest d) {
        if (DOWN_REQUEST_FUTURE == null) {
            return null;
        }
        try {
            return (CompletableFuture<byte[]>) DOWN_REQUEST_FUTURE.get(d);
        } catch (IllegalAccessException e) {
            return null;
        }
    }

    private static final Field DOWN_REQUEST_FUTURE = downRequestFuture();

    private static Field downRequestFuture() {
        try {
            Field f = DownRequest.class.getDeclaredField("f");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            LOG.warn("this jgroups-raft version keeps no future in its append requests ({}): an append that does not "
                    + "fit the log's queue is resent only after its attempt's deadline", e.toString());
            return null;
        }
    }

    /** The name of the file log of {@code cfg}'s member, as RAFT derives it from the stack's attributes. */
    static String logName(GroupConfig cfg) {
        CatchUpRaft r = new CatchUpRaft();
        r.log_dir = cfg.dataDir().toAbsolutePath().toString();
        r.raft_id = cfg.self().value();
        return r.createLogName(cfg.groupName(), "log");
    }

    /** Messages dropped because the processing queue was full. */
    long dropped() {
        return dropped.sum();
    }

    /** Bytes of log entries this member sent again to followers (catch-up chunks and resends after a stall). */
    long resentBytes() {
        return resentBytes.sum();
    }

    @Override
    protected void process(List<Request> requests) {
        super.process(requests);
        check();
    }

    /** RAFT's loop: polls its queue (at most {@code resend_interval}) and processes what came; also when idle. */
    @Override
    protected void processQueue() {
        super.processQueue();
        check();
    }

    /**
     * Runs {@code task} on the processing thread, soon (within {@code resend_interval} when idle). Every read of the
     * log from outside RAFT's own code must go through here: jgroups-raft's file log reads through the same buffer it
     * appends with, so a read on another thread during an append corrupts the entry written (seen: the retention
     * check's read, once a minute, left an entry's header overwritten with another entry's bytes; the leader could
     * never send that entry again, and a follower behind it stayed behind for good).
     */
    void runOnLogThread(Runnable task) {
        logTasks.add(task);
    }

    private void runLogTasks() {
        Runnable task;
        while ((task = logTasks.poll()) != null) {
            try {
                task.run();
            } catch (RuntimeException e) {
                LOG.warn("a task on the log's thread failed: {}", e.toString(), e);
            }
        }
    }

    /** At most once per {@code resend_interval}: repairs the membership and, on the leader, checks the followers. */
    private void check() {
        runLogTasks();
        long now = System.nanoTime();
        if (now - lastCheck < TimeUnit.MILLISECONDS.toNanos(resend_interval)) {
            return;
        }
        lastCheck = now;
        repairMembership();
        leadAlone();
        CommitTable table = commit_table;
        if (table != null && isLeader()) {
            followers.keySet().retainAll(table.keys());
            table.forEach(this::sendAppendEntriesMessage);
        }
    }

    @Override
    protected void sendAppendEntriesMessage(Address member, CommitTable.Entry e) {
        long now = System.nanoTime();
        Follower f = followers.computeIfAbsent(member, m -> new Follower(now));
        long next = e.nextIndex();
        if (next < log().firstAppended()) {
            if (now - f.snapshotSentAt >= TimeUnit.MILLISECONDS.toNanos(SNAPSHOT_RETRY_MILLIS)) {
                f.snapshotSentAt = now;
                LOG.info("follower {} needs entry {}, before the log's first entry {}: sending a snapshot", member,
                        next, log().firstAppended());
                super.sendAppendEntriesMessage(member, e);
            }
            return;
        }
        if (next != f.seenNext) {
            f.seenNext = next;
            f.movedAt = now;
        }
        if (next > last_appended) {
            if (f.catchingUp) {
                log(f, "follower {} caught up (next index {}, last appended {})", member, next);
                f.catchingUp = false;
            }
            super.sendAppendEntriesMessage(member, e); // RAFT's own: only the commit index, when it moved
            return;
        }
        if (f.catchingUp && last_appended - next < NEAR_ENTRIES) {
            log(f, "follower {} caught up (next index {}, last appended {})", member, next);
            f.catchingUp = false; // near the end: ordinary replication carries it from here
        }
        boolean stalled = now - f.movedAt >= TimeUnit.MILLISECONDS.toNanos(STALL_MILLIS);
        if (f.catchingUp || stalled) {
            sendChunk(member, f, next, now);
        } // else it keeps up through ordinary replication, or is just slow to answer: nothing is sent twice
    }

    /**
     * Sends the chunk starting at {@code next} unless the same chunk is in flight and not yet overdue: one chunk per
     * follower in flight, the next one only once the follower answered this one (its next index moved).
     */
    private void sendChunk(Address member, Follower f, long next, long now) {
        if (next == f.chunkFrom && now - f.chunkSentAt < TimeUnit.MILLISECONDS.toNanos(CHUNK_RETRY_MILLIS)) {
            return;
        }
        if (!f.catchingUp && last_appended - next >= NEAR_ENTRIES) {
            f.catchingUp = true;
            f.lagAtStart = last_appended - next;
            log(f, "follower {} is behind (next index {}, last appended {}): catching it up in chunks", member, next);
        }
        long to = chunkEnd(next);
        f.chunkFrom = next;
        f.chunkSentAt = now;
        resentBytes.add(chunkBytes);
        LOG.debug("sending entries {}..{} to {}", next, to, member);
        resend(member, next, to);
    }

    /** Catch-ups of at least a chunk are worth INFO; shorter ones (a slower disk, a busy moment) DEBUG. */
    private void log(Follower f, String message, Address member, long next) {
        if (f.lagAtStart >= CHUNK_ENTRIES) {
            LOG.info(message, member, next, last_appended);
        } else {
            LOG.debug(message, member, next, last_appended);
        }
    }

    /**
     * jgroups-raft 1.1.4 takes the voter list from an installed snapshot without recomputing the majority or this
     * member's role (seen: 4 voters with majority 2; a member listed as a voter left a learner, which never votes).
     * Recomputes both; on the processing thread, like every change of role.
     */
    private void repairMembership() {
        List<String> voters = members();
        if (majority() != voters.size() / 2 + 1) {
            LOG.warn("log majority was {} for voters {} (stale after a snapshot); recomputing it", majority(), voters);
            computeMajority();
        }
        if (voters.contains(raft_id) && Role.Learner.name().equals(role())) {
            LOG.warn("this member {} is one of the voters {} but was left a learner (after a snapshot); now a "
                    + "follower", raft_id, voters);
            changeRole(Role.Follower);
        }
    }

    /**
     * A sole voter that knows no leader becomes the leader itself, in a new term: it alone is the majority. jgroups-raft
     * elects only from the view's coordinator, counting the coordinator's own voters; after a forced bootstrap the
     * coordinator may be another member that still counts the voters from before, and never starts the election.
     */
    private void leadAlone() {
        List<String> voters = members();
        if (voters.size() == 1 && voters.get(0).equals(raft_id) && leader() == null && local_addr != null) {
            long term = currentTerm() + 1;
            LOG.info("this member {} is the only voter and knows no leader: it leads, in term {}", raft_id, term);
            setLeaderAndTerm(local_addr, term);
        }
    }

    /**
     * The last index of a chunk starting at {@code from}: bounded by entries, bytes and the log's end; its bytes are
     * left in {@link #chunkBytes}.
     */
    private long chunkEnd(long from) {
        long to = from;
        LogEntry first = log_impl.get(from);
        long bytes = first == null ? 0 : first.length();
        while (to < last_appended && to - from + 1 < CHUNK_ENTRIES) {
            LogEntry entry = log_impl.get(to + 1);
            if (entry == null || bytes + entry.length() > CHUNK_BYTES) {
                break;
            }
            bytes += entry.length();
            to++;
        }
        chunkBytes = bytes;
        return to;
    }
}
