package io.chorus.changeset.pgoutput;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * A strict reader over one pgoutput message (network byte order). Every read checks the remaining length first, so
 * truncated input raises {@link PgOutputFormatException} with the offset instead of an unrelated runtime error.
 * Not thread-safe; one per message.
 */
final class ByteCursor {
    /** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in seconds since 1970. */
    private static final long PG_EPOCH_SECONDS = 946_684_800L;

    private final ByteBuffer buf;
    private char type;
    /** The tuple column being read (named in errors), or -1. Avoids building field names per value. */
    private int column = -1;

    ByteCursor(ByteBuffer message) {
        this.buf = message.slice().order(ByteOrder.BIG_ENDIAN);
    }

    void type(char messageType) {
        this.type = messageType;
    }

    void column(int index) {
        this.column = index;
    }

    int offset() {
        return buf.position();
    }

    boolean hasRemaining() {
        return buf.hasRemaining();
    }

    int remaining() {
        return buf.remaining();
    }

    PgOutputFormatException error(String detail) {
        return errorAt(buf.position(), detail);
    }

    PgOutputFormatException errorAt(int at, String detail) {
        return new PgOutputFormatException(type, at, column < 0 ? detail : "column " + column + " " + detail);
    }

    private void need(int n, String field) {
        if (buf.remaining() < n) {
            throw error("truncated: " + field + " needs " + n + " bytes, " + buf.remaining() + " left");
        }
    }

    byte int8(String field) {
        need(1, field);
        return buf.get();
    }

    /** An Int8 that must lie in [0, max]. */
    int flags(String field, int max) {
        int at = buf.position();
        int v = int8(field);
        if (v < 0 || v > max) {
            buf.position(at);
            throw error(field + " is " + v + ", expected 0.." + max);
        }
        return v;
    }

    int uint16(String field) {
        need(2, field);
        return Short.toUnsignedInt(buf.getShort());
    }

    int int32(String field) {
        need(4, field);
        return buf.getInt();
    }

    long uint32(String field) {
        return Integer.toUnsignedLong(int32(field));
    }

    long int64(String field) {
        need(8, field);
        return buf.getLong();
    }

    /** Int64 microseconds since 2000-01-01 UTC. */
    Instant timestamp(String field) {
        long micros = int64(field);
        long seconds = Math.floorDiv(micros, 1_000_000L);
        long nanos = Math.floorMod(micros, 1_000_000L) * 1_000L;
        return Instant.ofEpochSecond(PG_EPOCH_SECONDS + seconds, nanos);
    }

    static long toPgMicros(Instant t) {
        return Math.multiplyExact(t.getEpochSecond() - PG_EPOCH_SECONDS, 1_000_000L) + t.getNano() / 1_000L;
    }

    /** A NUL-terminated UTF-8 string. */
    String cstring(String field) {
        int start = buf.position();
        int end = start;
        int limit = buf.limit();
        while (end < limit && buf.get(end) != 0) {
            end++;
        }
        if (end == limit) {
            throw error("truncated: " + field + " has no terminating NUL");
        }
        String s = utf8(start, end - start, field);
        buf.position(end + 1);
        return s;
    }

    /** {@code n} bytes as UTF-8 text. */
    String text(int n, String field) {
        need(n, field);
        int start = buf.position();
        String s = utf8(start, n, field);
        buf.position(start + n);
        return s;
    }

    byte[] bytes(int n, String field) {
        need(n, field);
        byte[] out = new byte[n];
        buf.get(out);
        return out;
    }

    /** A length-prefixed value's length: non-negative and no longer than what is left. */
    int length(String field) {
        int at = buf.position();
        int n = int32(field + " length");
        if (n < 0 || n > buf.remaining()) {
            buf.position(at);
            throw error(field + " length " + n + " is negative or exceeds the " + (buf.remaining() - 4) + " bytes left");
        }
        return n;
    }

    void end() {
        if (buf.hasRemaining()) {
            throw error(buf.remaining() + " trailing bytes after a complete message");
        }
    }

    private String utf8(int start, int n, String field) {
        byte[] raw;
        int from;
        if (buf.hasArray()) {
            raw = buf.array();
            from = buf.arrayOffset() + start;
        } else {
            raw = new byte[n];
            buf.get(start, raw);
            from = 0;
        }
        String s = new String(raw, from, n, StandardCharsets.UTF_8);
        // the lenient decoder maps bad sequences to U+FFFD; only then pay for the strict check
        if (s.indexOf('\uFFFD') >= 0) {
            CharsetDecoder strict = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
            try {
                CharBuffer ignored = strict.decode(ByteBuffer.wrap(raw, from, n));
            } catch (CharacterCodingException e) {
                throw errorAt(start, field + " is not valid UTF-8 (" + e.getMessage() + ")");
            }
        }
        return s;
    }
}
