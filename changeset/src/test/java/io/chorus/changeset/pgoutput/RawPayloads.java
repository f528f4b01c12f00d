package io.chorus.changeset.pgoutput;

import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

/** Reads the raw XLogData payloads of a pgoutput slot (proto 1, messages on): real bytes for parser tests. */
final class RawPayloads {
    private RawPayloads() {
    }

    /** Reads until {@code commits} Commit messages arrived; fails after {@code timeoutSeconds}. */
    static List<byte[]> read(String jdbcUrl, String slot, String publication, int commits, int timeoutSeconds) throws SQLException {
        Properties p = new Properties();
        PGProperty.REPLICATION.set(p, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
        PGProperty.PREFER_QUERY_MODE.set(p, "simple");
        List<byte[]> out = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl, p)) {
            PGReplicationStream stream = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                    .withSlotName(slot).withSlotOption("proto_version", "1").withSlotOption("publication_names", publication)
                    .withSlotOption("messages", true).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
            int seen = 0;
            while (seen < commits) {
                ByteBuffer b = stream.readPending();
                if (b == null) {
                    if (System.nanoTime() > deadline) {
                        throw new AssertionError("slot " + slot + ": " + seen + " of " + commits + " commits after "
                                + timeoutSeconds + " s");
                    }
                    LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // poll interval of a non-blocking read
                    continue;
                }
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                out.add(bytes);
                if (bytes[0] == 'C') {
                    seen++;
                }
            }
            stream.close();
        }
        return out;
    }
}
