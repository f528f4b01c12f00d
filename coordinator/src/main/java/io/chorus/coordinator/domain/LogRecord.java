package io.chorus.coordinator.domain;

import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.changeset.wire.RelationCatalog;
import io.chorus.changeset.wire.WireCodec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * What a domain puts into its group's log. Every record takes one GSN; only changesets change data. A watermark
 * report carries a member's W (the certifier's purge horizon is a function of them); a barrier orders a read barrier
 * ({@code chorus.sync_wait()}) among the changesets.
 */
sealed interface LogRecord {
    byte CHANGESET = 1;
    byte WATERMARK = 2;
    byte BARRIER = 3;
    /** A full-transfer message ({@link io.chorus.recovery.TransferMessage}); only advances W here. */
    byte TRANSFER = io.chorus.recovery.TransferMessage.TAG;

    record Changes(ChangeSet changeSet) implements LogRecord {
    }

    record Watermark(NodeId node, Gsn watermark) implements LogRecord {
    }

    record Barrier(NodeId node, String token) implements LogRecord {
    }

    /** A full-transfer message, handled by the domain's recovery before delivery. */
    record Transfer() implements LogRecord {
    }

    /** Encodes a record on its own: a changeset's frame defines every relation it names (files of this node). */
    static byte[] encode(LogRecord r, WireCodec codec) {
        if (r instanceof Changes c) {
            return changes(c.changeSet(), codec, RelationCatalog.NONE).frame();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            if (r instanceof Watermark w) {
                out.writeByte(WATERMARK);
                out.writeUTF(w.node().value());
                out.writeLong(w.watermark().value());
            } else if (r instanceof Barrier b) {
                out.writeByte(BARRIER);
                out.writeUTF(b.node().value());
                out.writeUTF(b.token());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /**
     * Encodes a changeset for the group's log: relation versions the group's catalog holds (committed below) are
     * named by id alone; the definitions of the others are returned with the record, for the group to keep.
     */
    static WireCodec.Encoded changes(ChangeSet cs, WireCodec codec, RelationCatalog catalog) {
        WireCodec.Encoded body = codec.encode(List.of(cs), catalog);
        byte[] out = new byte[body.frame().length + 1];
        out[0] = CHANGESET;
        System.arraycopy(body.frame(), 0, out, 1, body.frame().length);
        return new WireCodec.Encoded(out, body.definitions());
    }

    /** Decodes a record; relation versions named by id alone resolve in the codec's catalog. */
    static LogRecord decode(byte[] payload, WireCodec codec) {
        if (payload.length == 0) {
            throw new ChorusException("empty record in the group log");
        }
        switch (payload[0]) {
            case CHANGESET -> {
                byte[] body = new byte[payload.length - 1];
                System.arraycopy(payload, 1, body, 0, body.length);
                List<ChangeSet> list = codec.decode(body);
                if (list.size() != 1) {
                    throw new ChorusException("a changeset record holds " + list.size() + " changesets, expected 1");
                }
                return new Changes(list.get(0));
            }
            case WATERMARK, BARRIER -> {
                try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload, 1, payload.length - 1))) {
                    NodeId node = NodeId.of(in.readUTF());
                    return payload[0] == WATERMARK ? new Watermark(node, Gsn.of(in.readLong())) : new Barrier(node, in.readUTF());
                } catch (IOException | IllegalArgumentException e) {
                    throw new ChorusException("malformed " + (payload[0] == WATERMARK ? "watermark" : "barrier")
                            + " record in the group log: " + e.getMessage(), e);
                }
            }
            case TRANSFER -> {
                return new Transfer();
            }
            default -> throw new ChorusException("unknown record type " + payload[0] + " in the group log; is a newer "
                    + "Chorus version in the group? every member must run the same protocol version");
        }
    }
}
