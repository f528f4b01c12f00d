package io.chorus.changeset.capture;

import io.chorus.changeset.Lsn;
import io.chorus.changeset.capture.CaptureConfig.SlotMode;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.postgresql.replication.fluent.logical.ChainedLogicalStreamBuilder;

/**
 * One replication connection and its pgoutput stream (proto_version 1, messages on, text values, automatic flush off:
 * the server learns only the flush position we set). pgjdbc's stream is not thread-safe: the reader thread alone
 * uses a session, and a session is never reused after an error.
 */
final class ReplicationSession implements AutoCloseable {
    static final int PROTOCOL_VERSION = 1;
    /** How often pgjdbc sends status feedback (received/flushed) to the server. */
    private static final int STATUS_INTERVAL_MS = 1000;

    private final Connection connection;
    private final PGReplicationStream stream;

    private ReplicationSession(Connection connection, PGReplicationStream stream) {
        this.connection = connection;
        this.stream = stream;
    }

    /** Connects and starts streaming after {@code start} (INVALID: from the slot's confirmed position). */
    static ReplicationSession open(CaptureConfig cfg, Lsn start) throws SQLException {
        Properties p = new Properties();
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        PGProperty.APPLICATION_NAME.set(p, "chorus_capture_" + cfg.slotName());
        PGProperty.TCP_KEEP_ALIVE.set(p, true);
        PGProperty.CONNECT_TIMEOUT.set(p, 10);
        Connection c = DriverManager.getConnection(cfg.jdbcUrl(), p);
        try {
            PGConnection pg = c.unwrap(PGConnection.class);
            if (cfg.slotMode() == SlotMode.TEMPORARY) {
                pg.getReplicationAPI().createReplicationSlot().logical().withSlotName(cfg.slotName())
                        .withOutputPlugin("pgoutput").withTemporaryOption().make();
            }
            ChainedLogicalStreamBuilder b = pg.getReplicationAPI().replicationStream().logical()
                    .withSlotName(cfg.slotName())
                    .withSlotOption("proto_version", Integer.toString(PROTOCOL_VERSION))
                    .withSlotOption("publication_names", cfg.publication())
                    .withSlotOption("messages", true)
                    .withStatusInterval(STATUS_INTERVAL_MS, TimeUnit.MILLISECONDS)
                    .withAutomaticFlush(false);
            if (start.isValid()) {
                b.withStartPosition(LogSequenceNumber.valueOf(start.value()));
            }
            return new ReplicationSession(c, b.start());
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            throw e;
        }
    }

    /** The next message, or null when none is waiting (keepalives are answered inside). Never blocks on the network. */
    ByteBuffer readPending() throws SQLException {
        return stream.readPending();
    }

    /** The server position last heard of: a message's WAL start or a keepalive's WAL end. */
    Lsn lastReceived() {
        return Lsn.of(stream.getLastReceiveLSN().asLong());
    }

    /** Reports {@code lsn} as flushed (and applied) from the next status update on. */
    void confirm(Lsn lsn) {
        LogSequenceNumber l = LogSequenceNumber.valueOf(lsn.value());
        stream.setFlushedLSN(l);
        stream.setAppliedLSN(l);
    }

    void sendStatusNow() throws SQLException {
        stream.forceUpdateStatus();
    }

    @Override
    public void close() {
        try {
            if (!stream.isClosed()) {
                stream.close();
            }
        } catch (SQLException ignored) {
            // the connection is going away anyway
        }
        closeQuietly(connection);
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // nothing left to release
        }
    }
}
