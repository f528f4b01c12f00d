package io.chorus.changeset.wire;

import io.chorus.changeset.ChangeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * Seeded randomized round trips and mutations. Prints its seed; replay with {@code -Dseed=<seed>}.
 */
class WireCodecFuzzTest {
    private static long seed;
    private final WireCodec codec = new WireCodec();

    @BeforeAll
    static void chooseSeed() {
        seed = Long.getLong("seed", System.nanoTime());
        System.out.println("WireCodecFuzzTest seed=" + seed + " (replay with -Dseed=" + seed + ")");
    }

    @Test
    void randomBatchesRoundTripExactly() {
        RandomChanges gen = new RandomChanges(seed);
        for (int i = 0; i < 3000; i++) {
            List<ChangeSet> batch = gen.batch(5, 8);
            assertThat(codec.decode(codec.encode(batch))).as("case %d, seed %d", i, seed).isEqualTo(batch);
        }
    }

    @Test
    void mutatedFramesDecodeToTheOriginalOrFail() {
        RandomChanges gen = new RandomChanges(seed + 1);
        Random random = gen.random();
        int failures = 0;
        for (int i = 0; i < 5000; i++) {
            List<ChangeSet> batch = gen.batch(3, 5);
            byte[] original = codec.encode(batch);
            byte[] mutated = mutate(original, random);
            try {
                List<ChangeSet> back = codec.decode(mutated);
                assertThat(back).as("mutation %d decoded to something else, seed %d", i, seed).isEqualTo(batch);
            } catch (WireFormatException expected) {
                failures++;
            } catch (Throwable t) {
                fail("mutation " + i + " threw " + t + " instead of WireFormatException, seed " + seed, t);
            }
        }
        assertThat(failures).as("most mutations must be detected").isGreaterThan(4000);
    }

    /** Mutations behind a recomputed checksum exercise the body decoder itself: only a WireFormatException may escape. */
    @Test
    void resealedBodyMutationsNeverEscapeAsOtherErrors() {
        RandomChanges gen = new RandomChanges(seed + 2);
        Random random = gen.random();
        for (int i = 0; i < 5000; i++) {
            byte[] original = codec.encode(gen.batch(3, 5));
            byte[] mutated = mutate(original, random);
            if (mutated.length < Frame.HEADER_SIZE) {
                continue;
            }
            System.arraycopy(original, 0, mutated, 0, Frame.HEADER_SIZE);
            Frame.seal(Frame.KIND_BATCH, mutated);
            try {
                codec.decode(mutated);
            } catch (WireFormatException expected) {
                assertThat(expected.getMessage()).contains("at offset");
            } catch (Throwable t) {
                fail("resealed mutation " + i + " threw " + t + " instead of WireFormatException, seed " + seed, t);
            }
        }
    }

    static byte[] mutate(byte[] bytes, Random random) {
        int at = random.nextInt(bytes.length);
        switch (random.nextInt(6)) {
            case 0 -> {
                byte[] b = bytes.clone();
                b[at] ^= (byte) (1 << random.nextInt(8));
                return b;
            }
            case 1 -> {
                byte[] b = bytes.clone();
                b[at] = (byte) random.nextInt(256);
                return b;
            }
            case 2 -> {
                return Arrays.copyOf(bytes, at);
            }
            case 3 -> {
                byte[] b = new byte[bytes.length + 1];
                System.arraycopy(bytes, 0, b, 0, at);
                b[at] = (byte) random.nextInt(256);
                System.arraycopy(bytes, at, b, at + 1, bytes.length - at);
                return b;
            }
            case 4 -> {
                byte[] b = new byte[bytes.length - 1];
                System.arraycopy(bytes, 0, b, 0, at);
                System.arraycopy(bytes, at + 1, b, at, bytes.length - at - 1);
                return b;
            }
            default -> {
                byte[] b = bytes.clone();
                int other = random.nextInt(bytes.length);
                b[at] = bytes[other];
                b[other] = bytes[at];
                return b;
            }
        }
    }
}
