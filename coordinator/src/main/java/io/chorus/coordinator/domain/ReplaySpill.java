package io.chorus.coordinator.domain;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.wire.WireCodec;
import io.chorus.coordinator.certify.Conflict;
import io.chorus.coordinator.certify.Verdict;
import io.chorus.coordinator.pending.ReplayedVerdicts;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.SortedSet;
import java.util.TreeSet;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The verdicts of the GSNs replayed at a restart, kept for the pending-row rebuild with their changesets on disk, so
 * the replay of a long log holds no changeset in memory. Per verdict, in GSN order:
 * {@code [gsn: long][own: byte][uncertifiable: byte][lost: int][lost index: int]...[length: int][log record]}, the
 * log record as the group delivered it (decoded again with the same codec when read). In memory: the GSN and deps of
 * this node's own changesets (two longs each) and the conflicts of the verdicts with a loss (as many as
 * {@code chorus.conflicts} holds for the replay).
 *
 * <p>The file is a cache: it is not fsynced, a file an earlier run left is deleted at {@link #open}, and
 * {@link #discard} deletes it once the tracker is rebuilt. A write that fails (the disk is full) throws, naming the
 * file: the start fails rather than rebuild from part of the replay.
 *
 * <p>Thread-safety: {@link #add} runs on the delivery thread during the replay, the cursors on the starting thread
 * after it; every method synchronises on the spill. Writes and cursors block on disk I/O.
 */
final class ReplaySpill implements ReplayedVerdicts {
    private static final Logger LOG = LogManager.getLogger(ReplaySpill.class);
    private final Path file;
    private final WireCodec codec;
    private final NodeId self;
    private DataOutputStream out;
    private long[] own = new long[64];
    private int ownCount;
    private int count;
    private long last;
    private long bytes;
    private final Map<Long, List<Conflict>> conflicts = new HashMap<>();
    private boolean discarded;

    private ReplaySpill(Path file, WireCodec codec, NodeId self) {
        this.file = file;
        this.codec = codec;
        this.self = self;
    }

    /**
     * A spill at {@code file} (created at the first verdict); deletes what an earlier run left there.
     *
     * @throws ChorusException when the folder cannot be created or the old file deleted
     */
    static ReplaySpill open(Path file, WireCodec codec, NodeId self) {
        try {
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new ChorusException("cannot prepare the replay spill file " + file + " (" + e + "): is the data "
                    + "folder writable?", e);
        }
        return new ReplaySpill(file, codec, self);
    }

    Path path() {
        return file;
    }

    /**
     * Writes a replayed verdict, whose changeset came in the log record {@code payload}; verdicts come in GSN order.
     * Ignored once the spill was discarded.
     *
     * @throws ChorusException (not retriable) when it cannot be written (the disk is full)
     */
    synchronized void add(Verdict v, byte[] payload) {
        if (discarded) {
            return;
        }
        boolean mine = v.changeSet().origin().equals(self);
        try {
            if (out == null) {
                out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file,
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND), 1 << 16));
            }
            out.writeLong(v.gsn().value());
            out.writeBoolean(mine);
            out.writeBoolean(v.uncertifiable());
            out.writeInt(v.lostIndexes().size());
            for (int i : v.lostIndexes()) {
                out.writeInt(i);
            }
            out.writeInt(payload.length);
            out.write(payload);
            bytes += Long.BYTES + 2 + Integer.BYTES * (2L + v.lostIndexes().size()) + payload.length;
        } catch (IOException e) {
            throw new ChorusException("cannot write the replayed changeset of GSN " + v.gsn() + " to the replay "
                    + "spill file " + file + " (" + e + ") after " + count + " verdicts (" + bytes + " bytes): is the "
                    + "disk full? Free space in the data folder and restart the node", e, false);
        }
        count++;
        last = v.gsn().value();
        if (!v.conflicts().isEmpty()) {
            conflicts.put(last, v.conflicts());
        }
        if (mine) {
            if (2 * ownCount + 2 > own.length) {
                own = Arrays.copyOf(own, own.length * 2);
            }
            own[2 * ownCount] = last;
            own[2 * ownCount + 1] = v.changeSet().deps().value();
            ownCount++;
        }
    }

    /** Bytes written to the file. */
    synchronized long bytes() {
        return bytes;
    }

    /**
     * Deletes the file and forgets every verdict; later {@link #add}s are ignored (the replay is over). A file that
     * cannot be deleted is logged, not thrown: it is a cache, deleted at the next {@link #open}.
     */
    synchronized void discard() {
        discarded = true;
        conflicts.clear();
        own = new long[0];
        ownCount = 0;
        count = 0;
        try {
            if (out != null) {
                out.close();
            }
            Files.deleteIfExists(file);
        } catch (IOException e) {
            // the domain goes on (or closes): the next start deletes the file before it writes it again
            LOG.warn("cannot delete the replay spill file {} ({}); the next start of the domain deletes it", file,
                    e.toString());
        } finally {
            out = null;
        }
    }

    @Override
    public synchronized boolean isEmpty() {
        return count == 0;
    }

    @Override
    public synchronized Gsn last() {
        if (count == 0) {
            throw new NoSuchElementException("no verdict replayed into " + file);
        }
        return Gsn.of(last);
    }

    @Override
    public synchronized int ownCount() {
        return ownCount;
    }

    @Override
    public synchronized Gsn ownGsn(int i) {
        return Gsn.of(own[2 * i]);
    }

    @Override
    public synchronized Gsn ownDeps(int i) {
        return Gsn.of(own[2 * i + 1]);
    }

    @Override
    public synchronized Cursor after(Gsn after, boolean ownOnly) {
        if (count == 0) {
            return new SpillCursor(null, after, ownOnly, 0);
        }
        try {
            out.flush();
        } catch (IOException e) {
            throw new ChorusException("cannot write the replayed changesets to the replay spill file " + file + " ("
                    + e + ") after " + count + " verdicts (" + bytes + " bytes): is the disk full? Free space in the "
                    + "data folder and restart the node", e, false);
        }
        try {
            DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file,
                    StandardOpenOption.READ), 1 << 16));
            return new SpillCursor(in, after, ownOnly, count);
        } catch (IOException e) {
            throw unreadable(e);
        }
    }

    private ChorusException unreadable(IOException e) {
        return new ChorusException("cannot read the replayed changesets back from the replay spill file " + file
                + " (" + e + "); restart the node (the file is written again from the group log)", e);
    }

    /** Reads the file from its start, skipping the payloads of verdicts it does not yield. */
    private final class SpillCursor implements Cursor {
        private final DataInputStream in;
        private final Gsn after;
        private final boolean ownOnly;
        private int left;
        private Verdict next;

        SpillCursor(DataInputStream in, Gsn after, boolean ownOnly, int records) {
            this.in = in;
            this.after = after;
            this.ownOnly = ownOnly;
            this.left = records;
            this.next = advance();
        }

        private Verdict advance() {
            try {
                while (left > 0) {
                    left--;
                    Gsn gsn = Gsn.of(in.readLong());
                    boolean mine = in.readBoolean();
                    boolean uncertifiable = in.readBoolean();
                    SortedSet<Integer> lost = new TreeSet<>();
                    for (int n = in.readInt(); n > 0; n--) {
                        lost.add(in.readInt());
                    }
                    int length = in.readInt();
                    if (!gsn.isAfter(after) || ownOnly && !mine) {
                        in.skipNBytes(length);
                        continue;
                    }
                    byte[] payload = in.readNBytes(length);
                    if (payload.length != length) {
                        throw new IOException("the record of GSN " + gsn + " is cut short");
                    }
                    return verdict(gsn, payload, lost, uncertifiable);
                }
                return null;
            } catch (IOException e) {
                throw unreadable(e);
            }
        }

        private Verdict verdict(Gsn gsn, byte[] payload, SortedSet<Integer> lost, boolean uncertifiable) {
            if (!(LogRecord.decode(payload, codec) instanceof LogRecord.Changes c)) {
                throw new ChorusException("the replay spill file " + file + " holds no changeset at GSN " + gsn
                        + "; restart the node (the file is written again from the group log)");
            }
            ChangeSet cs = c.changeSet();
            List<Conflict> lostTo;
            synchronized (ReplaySpill.this) {
                lostTo = conflicts.getOrDefault(gsn.value(), List.of());
            }
            return new Verdict(gsn, cs, lost, lostTo, uncertifiable);
        }

        @Override
        public boolean hasNext() {
            return next != null;
        }

        @Override
        public Verdict next() {
            if (next == null) {
                throw new NoSuchElementException("no replayed verdict after GSN " + after + " left in " + file);
            }
            Verdict v = next;
            next = advance();
            return v;
        }

        @Override
        public void close() {
            try {
                if (in != null) {
                    in.close();
                }
            } catch (IOException e) {
                throw unreadable(e);
            }
        }
    }
}
