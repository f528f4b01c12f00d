package io.chorus.changeset.pgoutput;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.testkit.PgServer;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Parses real pgoutput byte streams captured from a server, then mutates them (truncate, flip, insert, delete, overwrite
 * a word) with a seeded generator. Each mutated message must give exactly one of: the original message; a
 * {@link PgOutputFormatException}; or a different message that re-encodes to exactly the mutated bytes (a mutation
 * inside a value is another valid message). Any other outcome fails with the seed. Replay: -Dchorus.fuzz.seed=N.
 */
class PgOutputFuzzIT {
    private static final int ITERATIONS = Integer.getInteger("chorus.fuzz.iterations", 100_000);

    @Test
    void mutatedRealStreamsDecodeExactlyOrRaiseTheFormatException() throws SQLException {
        List<byte[]> real = captureRealStream();
        List<PgOutputMessage> originals = new ArrayList<>();
        Set<Character> types = new TreeSet<>();
        for (byte[] b : real) {
            PgOutputMessage m = new PgOutputParser(1).parse(ByteBuffer.wrap(b));
            assertThat(PgOutputWriter.encode(m)).as("re-encoding of %s", m).isEqualTo(b);
            originals.add(m);
            types.add(m.type());
        }
        assertThat(types).contains('B', 'C', 'O', 'R', 'Y', 'I', 'U', 'D', 'T', 'M');

        long seed = Long.getLong("chorus.fuzz.seed", System.nanoTime());
        System.out.println("PgOutputFuzzIT seed " + seed + " (replay with -Dchorus.fuzz.seed=" + seed + ")");
        Random rnd = new Random(seed);
        int same = 0;
        int rejected = 0;
        int faithful = 0;
        for (int it = 0; it < ITERATIONS; it++) {
            int pick = rnd.nextInt(real.size());
            byte[] mutated = mutate(real.get(pick), rnd);
            PgOutputMessage got;
            try {
                got = new PgOutputParser(1).parse(ByteBuffer.wrap(mutated));
            } catch (PgOutputFormatException e) {
                assertThat(e.offset()).isBetween(0, mutated.length);
                rejected++;
                continue;
            } catch (RuntimeException | OutOfMemoryError e) {
                throw new AssertionError("seed " + seed + " iteration " + it + ": " + e + " for " + HexFormat.of().formatHex(mutated), e);
            }
            if (got.equals(originals.get(pick)) && Arrays.equals(mutated, real.get(pick))) {
                same++;
            } else if (Arrays.equals(PgOutputWriter.encode(got), mutated)) {
                faithful++;
            } else {
                throw new AssertionError("seed " + seed + " iteration " + it + ": decoded " + got
                        + " which does not re-encode to the mutated bytes " + HexFormat.of().formatHex(mutated));
            }
        }
        System.out.printf("%d real messages, %d mutations: %d unchanged, %d rejected with PgOutputFormatException, "
                + "%d other valid messages decoded faithfully%n", real.size(), ITERATIONS, same, rejected, faithful);
        assertThat(rejected).isGreaterThan(ITERATIONS / 2);
    }

    private static byte[] mutate(byte[] in, Random rnd) {
        byte[] b = in.clone();
        switch (rnd.nextInt(5)) {
            case 0 -> {
                return Arrays.copyOf(b, rnd.nextInt(b.length));
            }
            case 1 -> {
                b[rnd.nextInt(b.length)] ^= (byte) (1 + rnd.nextInt(255));
                return b;
            }
            case 2 -> {
                int at = rnd.nextInt(b.length + 1);
                byte[] extra = new byte[1 + rnd.nextInt(8)];
                rnd.nextBytes(extra);
                byte[] out = new byte[b.length + extra.length];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(extra, 0, out, at, extra.length);
                System.arraycopy(b, at, out, at + extra.length, b.length - at);
                return out;
            }
            case 3 -> {
                int from = rnd.nextInt(b.length);
                int to = Math.min(b.length, from + 1 + rnd.nextInt(8));
                byte[] out = new byte[b.length - (to - from)];
                System.arraycopy(b, 0, out, 0, from);
                System.arraycopy(b, to, out, from, b.length - to);
                return out;
            }
            default -> {
                if (b.length >= 5) {
                    ByteBuffer.wrap(b).putInt(1 + rnd.nextInt(b.length - 4), rnd.nextBoolean() ? rnd.nextInt() : rnd.nextInt(64));
                }
                return b;
            }
        }
    }

    /** A workload that makes the server send every protocol-1 message type, read back as raw bytes. */
    private static List<byte[]> captureRealStream() throws SQLException {
        try (PgServer pg = PgServer.start("fuzz")) {
            pg.createDatabase("fz");
            try (Connection c = pg.connect("fz"); Statement st = c.createStatement()) {
                st.execute("CREATE TYPE mood AS ENUM ('sad', 'happy')");
                st.execute("CREATE TABLE a(id int PRIMARY KEY, m mood, t text, big text)");
                st.execute("CREATE TABLE f(id int PRIMARY KEY, v text) ");
                st.execute("ALTER TABLE f REPLICA IDENTITY FULL");
                st.execute("CREATE PUBLICATION chorus FOR ALL TABLES WITH (publish_via_partition_root = true)");
                st.execute("SELECT pg_create_logical_replication_slot('fz', 'pgoutput')");
                st.execute("SELECT pg_replication_origin_create('chorus_h1')");
                st.execute("INSERT INTO a SELECT i, 'happy', 'é中😀 ' || i, CASE WHEN i = 1 THEN "
                        + "(SELECT string_agg(md5(j::text), '') FROM generate_series(1, 200) j) END FROM generate_series(1, 5) i");
                st.execute("INSERT INTO f VALUES (1, 'x'), (2, NULL)");
                st.execute("UPDATE a SET t = 'changed' WHERE id = 1");
                st.execute("UPDATE a SET id = 10 WHERE id = 2");
                st.execute("UPDATE f SET v = 'y'");
                st.execute("DELETE FROM a WHERE id = 3");
                st.execute("DELETE FROM f WHERE id = 2");
                st.execute("TRUNCATE f");
                st.execute("BEGIN; SELECT pg_logical_emit_message(true, 'chorus.ddl', 'CREATE TABLE z()'); "
                        + "SELECT pg_logical_emit_message(false, 'x', '\\x00ff'::bytea); INSERT INTO f VALUES (3, 'z'); COMMIT");
                st.execute("SELECT pg_replication_origin_session_setup('chorus_h1')");
                st.execute("BEGIN; SELECT pg_replication_origin_xact_setup('0/2A', now()); INSERT INTO f VALUES (4, 'h'); COMMIT");
            }
            return RawPayloads.read(pg.jdbcUrl("fz"), "fz", "chorus", 10, 60);
        }
    }
}
