package io.chorus.coordinator.domain;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.wire.WireCodec;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * A durable copy of this node's own changesets that sync mode releases from the slot at their delivery, before they
 * are applied here ({@link OwnConfirmations}): written and forced to disk before the release, dropped once W passes
 * them. A restart whose W is below such a changeset no longer gets it from the slot; it takes it from here as one of
 * its pending changesets (why this is exactly what the live node held: {@link io.chorus.coordinator.pending}).
 *
 * <p>File: {@code [gsn: long][length: int][log record]} per changeset, in GSN order; a torn last record (a crash while
 * writing it) was never released and is ignored. When every changeset in it is applied the file is emptied; when it
 * grows past {@link #COMPACT_BYTES} it is rewritten (to a new file, forced, then renamed) with the ones not applied.
 * The changesets not applied are also held in memory: at most what the apply queue holds.
 *
 * <p>Thread-safe: {@link #add} runs on the delivery thread, {@link #applied} on the applier's; both block on disk I/O.
 */
final class OwnReleases implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(OwnReleases.class);
    static final long COMPACT_BYTES = 8L << 20;

    private final Path file;
    private final WireCodec codec;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private FileChannel channel;
    private long bytes;

    private record Held(long gsn, byte[] record, ChangeSet changeSet) {
    }

    private OwnReleases(Path file, WireCodec codec) {
        this.file = file;
        this.codec = codec;
    }

    /**
     * Opens the copy at {@code file}: keeps the changesets of {@code self} above {@code w} an earlier run left there
     * (rewritten, forced), forgets the rest.
     *
     * @throws ChorusException when the file cannot be read or written
     */
    static OwnReleases open(Path file, WireCodec codec, NodeId self, Gsn w) {
        OwnReleases r = new OwnReleases(file, codec);
        try {
            Files.createDirectories(file.getParent());
            if (Files.exists(file)) {
                r.load(self, w);
            }
            r.rewrite();
        } catch (IOException | RuntimeException e) {
            throw new ChorusException("cannot open " + file + ", this node's copy of its own changesets released "
                    + "from the slot before their apply (" + e + "): is the data folder readable and writable?", e);
        }
        if (!r.held.isEmpty()) {
            LOG.info("{} own changeset(s) released from the slot at their delivery were not applied before the stop "
                    + "(GSN {}..{}, above W={}): taken from {}", r.held.size(), r.held.peekFirst().gsn(),
                    r.held.peekLast().gsn(), w, file);
        }
        return r;
    }

    /** Forgets every copy (a full transfer replaced the database: the changesets above its W come from the log). */
    static void discard(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new ChorusException("cannot delete " + file + " after the full transfer (" + e + ")", e);
        }
    }

    private void load(NodeId self, Gsn w) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(raw))) {
            while (true) {
                long gsn;
                byte[] record;
                try {
                    gsn = in.readLong();
                    record = new byte[in.readInt()];
                    in.readFully(record);
                } catch (EOFException torn) {
                    return; // never forced, so never released: the slot still has it
                }
                if (gsn > w.value() && LogRecord.decode(record, codec) instanceof LogRecord.Changes c
                        && c.changeSet().origin().equals(self)) {
                    add(gsn, record, c.changeSet());
                }
            }
        }
    }

    private void add(long gsn, byte[] record, ChangeSet cs) {
        if (!held.isEmpty() && held.peekLast().gsn() >= gsn) {
            return; // written again after a restart: the first copy stands
        }
        held.addLast(new Held(gsn, record, cs));
    }

    /** The changesets kept from the earlier run, above its W, in GSN order (= this node's commit order). */
    synchronized List<ChangeSet> kept() {
        List<ChangeSet> out = new ArrayList<>(held.size());
        held.forEach(h -> out.add(h.changeSet()));
        return out;
    }

    /**
     * Writes {@code cs}, delivered at {@code gsn}, and forces it to disk; call before the slot may let go of it.
     *
     * @throws IOException when it could not be written: the changeset must then stay in the slot
     */
    synchronized void add(Gsn gsn, ChangeSet cs) throws IOException {
        if (!held.isEmpty() && held.peekLast().gsn() >= gsn.value()) {
            return; // taken from the earlier run's copy, still on disk
        }
        byte[] record = LogRecord.encode(new LogRecord.Changes(cs), codec);
        if (channel == null) { // a compaction failed half-way: the file is whole, go on appending to it
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        }
        ByteBuffer buf = ByteBuffer.allocate(Long.BYTES + Integer.BYTES + record.length);
        buf.putLong(gsn.value()).putInt(record.length).put(record).flip();
        while (buf.hasRemaining()) {
            channel.write(buf);
        }
        channel.force(false);
        bytes += buf.limit();
        held.addLast(new Held(gsn.value(), record, null));
    }

    /** Every GSN up to {@code upTo} is applied here: their copies are no longer needed. */
    synchronized void applied(Gsn upTo) {
        boolean dropped = false;
        while (!held.isEmpty() && held.peekFirst().gsn() <= upTo.value()) {
            held.pollFirst();
            dropped = true;
        }
        if (!dropped || (!held.isEmpty() && bytes < COMPACT_BYTES)) {
            return;
        }
        try {
            rewrite();
        } catch (IOException e) {
            // the old file still holds every copy not applied: a restart ignores the applied ones
            LOG.warn("could not compact {} ({}); it keeps growing until the next attempt", file, e.toString());
        }
    }

    /** Replaces the file by one holding exactly {@link #held}, forced before the rename. */
    private void rewrite() throws IOException {
        closeChannel();
        Path tmp = file.resolveSibling(file.getFileName() + ".new");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (DataOutputStream data = new DataOutputStream(out)) {
            for (Held h : held) {
                data.writeLong(h.gsn());
                data.writeInt(h.record().length);
                data.write(h.record());
            }
        }
        try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(out.toByteArray());
            while (buf.hasRemaining()) {
                c.write(buf);
            }
            c.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
            dir.force(true); // the rename itself
        }
        bytes = out.size();
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    private void closeChannel() throws IOException {
        if (channel != null) {
            channel.close();
            channel = null;
        }
    }

    @Override
    public synchronized void close() throws IOException {
        closeChannel();
    }
}
