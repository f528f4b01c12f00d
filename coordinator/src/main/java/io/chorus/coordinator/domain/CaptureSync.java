package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * "Has the capture seen every commit so far?" — answered with a non-transactional logical message: it is decoded at
 * its WAL position, after every transaction that committed before it, so when the capture reports it back, every
 * earlier local commit has been reported too. Concurrent callers share a message when one was written after they
 * asked. Thread-safe.
 */
final class CaptureSync implements AutoCloseable {
    static final String PREFIX = "chorus_capture_sync";

    private final String jdbcUrl;
    private final Map<String, CompletableFuture<Void>> waiting = new ConcurrentHashMap<>();
    private Connection connection;
    private boolean flushArgument;
    private volatile boolean closed;

    CaptureSync(String jdbcUrl) {
        this.jdbcUrl = jdbcUrl;
    }

    /** Blocks until the capture reported a sync message written after this call started. */
    void await(Duration timeout) throws InterruptedException {
        String token = UUID.randomUUID().toString();
        CompletableFuture<Void> seen = new CompletableFuture<>();
        waiting.put(token, seen);
        try {
            emit(token);
            seen.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new ChorusException("the capture did not report its sync message within " + timeout.toMillis()
                    + " ms (is the slot being read? see the capture's log)", e, true);
        } catch (ExecutionException e) {
            throw new ChorusException("capture sync failed: " + e.getCause().getMessage(), e.getCause(), true);
        } finally {
            waiting.remove(token);
        }
    }

    /** Called from the capture thread for every control message. */
    void onMessage(String prefix, byte[] content) {
        if (!PREFIX.equals(prefix)) {
            return;
        }
        CompletableFuture<Void> f = waiting.remove(new String(content, StandardCharsets.UTF_8));
        if (f != null) {
            f.complete(null);
        }
    }

    private synchronized void emit(String token) {
        for (int attempt = 1; ; attempt++) {
            if (closed) {
                throw new ChorusException("capture sync closed: the domain is stopping");
            }
            try {
                if (connection == null || connection.isClosed()) {
                    connection = DriverManager.getConnection(jdbcUrl);
                    connection.setAutoCommit(true);
                    flushArgument = connection.getMetaData().getDatabaseMajorVersion() >= 17;
                }
                // the walsender decodes only flushed WAL, and a non-transactional message is not flushed by itself
                try (PreparedStatement ps = connection.prepareStatement(flushArgument
                        ? "SELECT pg_logical_emit_message(false, ?, ?, true)" : "SELECT pg_logical_emit_message(false, ?, ?)")) {
                    ps.setString(1, PREFIX);
                    ps.setString(2, token);
                    ps.execute();
                }
                if (!flushArgument) {
                    try (PreparedStatement ps = connection.prepareStatement("SELECT txid_current()")) {
                        ps.execute(); // commits a transaction with an xid: its commit flushes the WAL before it
                    }
                }
                return;
            } catch (SQLException e) {
                closeConnection();
                if (attempt >= 3) {
                    throw new ChorusException("cannot write a capture sync message: " + e.getMessage(), e, true);
                }
            }
        }
    }

    private void closeConnection() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // already broken
        }
        connection = null;
    }

    @Override
    public synchronized void close() {
        closed = true;
        closeConnection();
        waiting.values().forEach(f -> f.completeExceptionally(new ChorusException("domain closing")));
    }
}
