package io.chorus.coordinator.sidecar;

import io.chorus.changeset.NodeId;
import io.chorus.gcs.FaultHook;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.logging.log4j.ThreadContext;

/**
 * Test-only fault control of a sidecar ({@code testing.faultControl}; never in production): a harness cuts and heals
 * this node's group links through a control file, and learns from an acknowledgement file when the cut is in place.
 *
 * <p>Protocol. The harness writes the control file atomically: {@code sequence=<n>} and {@code cut=<node ids>}
 * (comma separated; empty heals). The sidecar's {@code chorus-fault-control} thread notices the new sequence number
 * (a file-system event naming it, or a check every {@value #CHECK_MILLIS} ms where events do not arrive), applies the
 * cut to every group of this node through {@link FaultHook#cutInProcess} (groups opened later included), and writes
 * {@code <file>.ack} atomically: {@code sequence=<n>} and {@code groups=<names>}, or {@code error=<text>}. A restarted
 * sidecar applies the file's current cut at start. {@link #request} is the harness's side.
 *
 * <p>Thread-safe: one thread owns the sidecar side; {@link #request} may be called from any thread but one request
 * per file at a time.
 */
public final class FaultControl implements AutoCloseable {
    private static final Logger LOG = LogManager.getLogger(FaultControl.class);
    /** The fallback check where file-system events do not arrive (e.g. some shared folders). */
    static final long CHECK_MILLIS = 1000;
    /** How often the harness's side looks at the acknowledgement between events. */
    private static final long ACK_CHECK_MILLIS = 100;

    private final NodeId self;
    private final Path file;
    private final Thread thread;
    private final WatchService watch;
    private volatile boolean running = true;
    private long applied = -1;

    /** The acknowledgement of one request: its sequence number and the groups that took the cut. */
    public record Ack(long sequence, List<String> groups) {
    }

    /** Prepares the control of node {@code self} through {@code file}; {@link #start()} starts watching it. */
    public FaultControl(NodeId self, Path file) {
        this.self = self;
        this.file = file.toAbsolutePath();
        try {
            Files.createDirectories(this.file.getParent());
            this.watch = FileSystems.getDefault().newWatchService();
            this.file.getParent().register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch the fault control file " + this.file + " (testing.faultControl)", e);
        }
        this.thread = new Thread(this::run, "chorus-fault-control");
        this.thread.setDaemon(true);
    }

    public void start() {
        LOG.warn("TEST FAULT CONTROL ON (testing.faultControl = {}): whoever writes this file can cut node {} off from "
                + "its group; never configure it in production", file, self);
        thread.start();
    }

    private void run() {
        ThreadContext.put("node", self.value());
        boolean changed = true;
        while (running) {
            try {
                if (changed) {
                    check();
                }
                WatchKey key = watch.poll(CHECK_MILLIS, TimeUnit.MILLISECONDS);
                // other files of the folder (logs) change all the time: read the control file only when it changed
                changed = key == null || names(key, file.getFileName());
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            } catch (RuntimeException e) {
                LOG.error("fault control {} failed: {}", file, e.toString());
            }
        }
    }

    private void check() {
        Map<String, String> request = read(file);
        if (request == null) {
            return;
        }
        long sequence;
        try {
            sequence = Long.parseLong(request.getOrDefault("sequence", ""));
        } catch (NumberFormatException e) {
            write(ackFile(file), Map.of("error", "no numeric sequence= line in " + file));
            return;
        }
        if (sequence == applied) {
            return;
        }
        applied = sequence;
        Map<String, String> ack = new LinkedHashMap<>();
        ack.put("sequence", Long.toString(sequence));
        try {
            List<String> groups = FaultHook.cutInProcess(self, parseIds(request.getOrDefault("cut", "")));
            ack.put("groups", String.join(",", groups));
        } catch (IllegalArgumentException | IllegalStateException e) {
            ack.put("error", e.getMessage());
        }
        write(ackFile(file), ack);
    }

    private static Set<NodeId> parseIds(String list) {
        Set<NodeId> ids = new TreeSet<>();
        for (String s : list.split(",")) {
            if (!s.isBlank()) {
                ids.add(NodeId.of(s.trim()));
            }
        }
        return ids;
    }

    /**
     * The harness's side: asks the sidecar watching {@code file} to drop all group traffic from {@code cut} (empty:
     * heal), and blocks until it acknowledges, at most {@code timeout}.
     *
     * @throws IllegalStateException when the sidecar reports an error, or does not answer within the timeout (the
     *     message names the file, the request and the last acknowledgement seen)
     */
    public static Ack request(Path file, Set<NodeId> cut, Duration timeout) throws InterruptedException {
        Map<String, String> previous = read(file);
        long sequence = previous == null ? 1 : Long.parseLong(previous.getOrDefault("sequence", "0")) + 1;
        Map<String, String> request = new LinkedHashMap<>();
        request.put("sequence", Long.toString(sequence));
        request.put("cut", String.join(",", cut.stream().map(NodeId::value).sorted().toList()));
        Path ackFile = ackFile(file);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (WatchService w = FileSystems.getDefault().newWatchService()) {
            ackFile.toAbsolutePath().getParent().register(w, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY);
            write(file, request);
            Map<String, String> ack = read(ackFile);
            while (ack == null || !Long.toString(sequence).equals(ack.get("sequence"))) {
                if (ack != null && ack.containsKey("error") && !ack.containsKey("sequence")) {
                    break;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("no acknowledgement of fault request " + request + " in " + ackFile
                            + " within " + timeout.toSeconds() + " s (last: " + ack + "); is the sidecar running with "
                            + "testing.faultControl = " + file + "?");
                }
                WatchKey key = w.poll(Math.min(TimeUnit.NANOSECONDS.toMillis(left) + 1, ACK_CHECK_MILLIS), TimeUnit.MILLISECONDS);
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
                ack = read(ackFile);
            }
            if (ack.containsKey("error")) {
                throw new IllegalStateException("fault request " + request + " in " + file + " failed: " + ack.get("error"));
            }
            String groups = ack.getOrDefault("groups", "");
            return new Ack(sequence, groups.isEmpty() ? List.of() : List.of(groups.split(",")));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot exchange fault requests through " + file, e);
        }
    }

    /** Whether the events of {@code key} name {@code name} (or were lost); resets the key. */
    private static boolean names(WatchKey key, Path name) {
        boolean hit = false;
        for (WatchEvent<?> e : key.pollEvents()) {
            hit |= e.kind() == StandardWatchEventKinds.OVERFLOW || name.equals(e.context());
        }
        key.reset();
        return hit;
    }

    static Path ackFile(Path file) {
        return file.resolveSibling(file.getFileName() + ".ack");
    }

    /** key=value lines, or null when the file does not exist. */
    private static Map<String, String> read(Path f) {
        try {
            Map<String, String> out = new LinkedHashMap<>();
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    out.put(line.substring(0, eq).trim(), line.substring(eq + 1).trim());
                }
            }
            return out;
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fault control file " + f, e);
        }
    }

    /** Writes key=value lines to a temporary file and moves it into place atomically. */
    private static void write(Path f, Map<String, String> values) {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, sb, StandardCharsets.UTF_8);
            Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write fault control file " + f, e);
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            watch.close();
        } catch (IOException e) {
            LOG.debug("closing the watch of {}: {}", file, e.toString());
        }
    }
}
