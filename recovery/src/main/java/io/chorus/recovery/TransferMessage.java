package io.chorus.recovery;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The full-transfer conversation, carried in the group's log so that it is ordered with the changesets: a joiner's
 * {@link Request}, the donor's {@link Offer} (an exported snapshot at a GSN boundary, or the reason it could not make
 * one) and the joiner's {@link Done}, after which the donor ends the exporting transaction. Immutable values; the
 * encoding starts with {@link #TAG} so that it shares the log with the domain's other records.
 */
public sealed interface TransferMessage {
    /** First byte of every transfer record in the group log (the domain's other records use 1..3). */
    byte TAG = 4;
    byte REQUEST = 1;
    byte OFFER = 2;
    byte DONE = 3;

    /** The transfer this message belongs to. */
    String requestId();

    /**
     * A joiner asks for a snapshot.
     *
     * @param attempt   0 for the first request; a retry after a silent donor asks the next candidate in the ranking
     * @param preferred the donor the joiner suggests when the log names no candidate (the leader it sees), may be null
     */
    record Request(NodeId joiner, String requestId, int attempt, NodeId preferred) implements TransferMessage {
    }

    /**
     * A donor's answer: the snapshot {@code snapshotId} of database {@code database} on PostgreSQL at
     * {@code host:port} holds exactly the changesets up to GSN {@code gsn}; or, when {@code error} is not null, why
     * the donor could not export one.
     */
    record Offer(NodeId joiner, String requestId, NodeId donor, Gsn gsn, String snapshotId, String host, int port,
                 String database, String error) implements TransferMessage {
        public boolean failed() {
            return error != null;
        }
    }

    /** The joiner has imported the snapshot (or given up): the donor may end the exporting transaction. */
    record Done(NodeId joiner, String requestId, NodeId donor) implements TransferMessage {
    }

    /** Whether a log record is a transfer message. */
    static boolean isTransfer(byte[] payload) {
        return payload.length > 1 && payload[0] == TAG;
    }

    static byte[] encode(TransferMessage m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(TAG);
            if (m instanceof Request r) {
                out.writeByte(REQUEST);
                out.writeUTF(r.joiner().value());
                out.writeUTF(r.requestId());
                out.writeInt(r.attempt());
                out.writeUTF(r.preferred() == null ? "" : r.preferred().value());
            } else if (m instanceof Offer o) {
                out.writeByte(OFFER);
                out.writeUTF(o.joiner().value());
                out.writeUTF(o.requestId());
                out.writeUTF(o.donor().value());
                out.writeLong(o.gsn().value());
                out.writeUTF(nn(o.snapshotId()));
                out.writeUTF(nn(o.host()));
                out.writeInt(o.port());
                out.writeUTF(nn(o.database()));
                out.writeUTF(nn(o.error()));
            } else if (m instanceof Done d) {
                out.writeByte(DONE);
                out.writeUTF(d.joiner().value());
                out.writeUTF(d.requestId());
                out.writeUTF(d.donor().value());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static TransferMessage decode(byte[] payload) {
        if (!isTransfer(payload)) {
            throw new ChorusException("not a transfer record (first byte " + (payload.length == 0 ? "none" : payload[0]) + ")");
        }
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload, 1, payload.length - 1))) {
            byte kind = in.readByte();
            return switch (kind) {
                case REQUEST -> {
                    NodeId joiner = NodeId.of(in.readUTF());
                    String id = in.readUTF();
                    int attempt = in.readInt();
                    String preferred = in.readUTF();
                    yield new Request(joiner, id, attempt, preferred.isEmpty() ? null : NodeId.of(preferred));
                }
                case OFFER -> new Offer(NodeId.of(in.readUTF()), in.readUTF(), NodeId.of(in.readUTF()),
                        Gsn.of(in.readLong()), in.readUTF(), in.readUTF(), in.readInt(), in.readUTF(), orNull(in.readUTF()));
                case DONE -> new Done(NodeId.of(in.readUTF()), in.readUTF(), NodeId.of(in.readUTF()));
                default -> throw new ChorusException("unknown transfer message kind " + kind
                        + "; every member must run the same Chorus protocol version");
            };
        } catch (IOException | IllegalArgumentException e) {
            throw new ChorusException("malformed transfer record in the group log: " + e.getMessage(), e);
        }
    }

    private static String nn(String s) {
        return s == null ? "" : s;
    }

    private static String orNull(String s) {
        return s.isEmpty() ? null : s;
    }
}
