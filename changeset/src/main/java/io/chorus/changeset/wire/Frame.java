package io.chorus.changeset.wire;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * The envelope of every encoded frame: a fixed header followed by the Kryo body.
 *
 * <pre>
 * offset  size  field
 *  0      4     magic 'CHRS'
 *  4      2     format version (big-endian)
 *  6      1     frame kind: 'B' batch of changesets, 'C' one change
 *  7      4     body length in bytes
 * 11      4     CRC32C of the body
 * 15      n     body
 * </pre>
 *
 * The header is checked field by field before the body is touched, and the checksum before a single body byte is
 * decoded, so corrupted bytes fail here instead of producing a wrong changeset.
 */
final class Frame {
    static final int MAGIC = 0x43485253;
    static final int HEADER_SIZE = 15;
    static final byte KIND_BATCH = 'B';
    static final byte KIND_CHANGE = 'C';

    private Frame() {
    }

    /** Writes the header into {@code buffer}, which holds the body from offset {@link #HEADER_SIZE} on. */
    static byte[] seal(byte kind, byte[] buffer) {
        int bodyLength = buffer.length - HEADER_SIZE;
        ByteBuffer header = ByteBuffer.wrap(buffer, 0, HEADER_SIZE);
        header.putInt(MAGIC).putShort((short) WireCodec.FORMAT_VERSION).put(kind).putInt(bodyLength)
                .putInt(crc(buffer, HEADER_SIZE, bodyLength));
        return buffer;
    }

    /** Checks the header and checksum of {@code bytes} as a frame of {@code kind}; returns the body length. */
    static int open(byte kind, byte[] bytes) {
        if (bytes == null) {
            throw new WireFormatException("cannot decode a null frame: the caller passed no bytes");
        }
        if (bytes.length < HEADER_SIZE) {
            throw new WireFormatException("truncated frame while reading the header at offset 0: " + bytes.length
                    + " bytes, a header needs " + HEADER_SIZE);
        }
        ByteBuffer header = ByteBuffer.wrap(bytes, 0, HEADER_SIZE);
        int magic = header.getInt();
        if (magic != MAGIC) {
            throw new WireFormatException(String.format("not a Chorus frame: magic at offset 0 is 0x%08x, expected 0x%08x"
                    + " ('CHRS'); the bytes come from something else or are corrupted", magic, MAGIC));
        }
        checkVersion(header.getShort() & 0xFFFF);
        byte actualKind = header.get();
        if (actualKind != kind) {
            throw new WireFormatException("wrong frame kind at offset 6: '" + (char) (actualKind & 0xFF)
                    + "', expected '" + (char) kind + "' (B = batch of changesets, C = one change)");
        }
        int bodyLength = header.getInt();
        if (bodyLength != bytes.length - HEADER_SIZE) {
            throw new WireFormatException("frame length mismatch at offset 7: header says a body of " + bodyLength
                    + " bytes, " + (bytes.length - HEADER_SIZE) + " bytes follow the header (truncated or padded frame)");
        }
        int expected = header.getInt();
        int actual = crc(bytes, HEADER_SIZE, bodyLength);
        if (expected != actual) {
            throw new WireFormatException(String.format("checksum mismatch over the body at offset %d (%d bytes):"
                    + " header says CRC32C 0x%08x, body has 0x%08x; the frame is corrupted", HEADER_SIZE, bodyLength,
                    expected, actual));
        }
        return bodyLength;
    }

    private static void checkVersion(int version) {
        if (version != WireCodec.FORMAT_VERSION) {
            throw new WireFormatException("unsupported changeset wire format version " + version
                    + " at offset 4: the sender speaks version " + version + ", this node speaks version "
                    + WireCodec.FORMAT_VERSION + " only; run the same Chorus release on every node of the group");
        }
    }

    private static int crc(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }
}
