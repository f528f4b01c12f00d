package io.chorus.changeset.spill;

import io.chorus.changeset.Change;
import io.chorus.changeset.Column;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.Op;
import io.chorus.changeset.Relation;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.Tuple;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Child-JVM program of {@link ChangeBufferLargeTransactionTest}: feeds a buffer about {@code targetBytes} of
 * generated changes, then iterates them back and compares each with the same change generated again from the seed.
 * Prints one result line; exit code 0 only when every change came back exactly and the file was deleted.
 */
public final class SpillMain {
    private static final Relation DOCS = new Relation(RelationName.of("public", "docs"), 'f', List.of(
            new Column("id", true, 20, -1), new Column("body", false, 25, -1), new Column("note", false, 25, -1)));

    private SpillMain() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        long targetBytes = Long.parseLong(args[2]);
        long threshold = Long.parseLong(args[3]);
        Generator gen = new Generator(seed);
        int count = 0;
        try (ChangeBuffer buffer = new ChangeBuffer(threshold, dir)) {
            while (buffer.bytes() < targetBytes) {
                buffer.add(gen.next(count++));
            }
            List<Change> list = buffer.finish();
            Generator again = new Generator(seed);
            int i = 0;
            for (Change c : list) {
                Change expected = again.next(i);
                if (!expected.equals(c)) {
                    System.out.println("MISMATCH at change " + i + ": expected " + expected + " got " + c);
                    System.exit(2);
                }
                i++;
            }
            long files;
            try (var s = Files.list(dir)) {
                files = s.count();
            }
            System.out.println("verified " + i + " of " + count + " changes, ~" + buffer.bytes() + " bytes, spilled="
                    + buffer.spilled() + ", files=" + files + ", maxHeap=" + Runtime.getRuntime().maxMemory());
            if (i != count) {
                System.exit(3);
            }
        }
        try (var s = Files.list(dir)) {
            System.out.println("files after close=" + s.count());
        }
    }

    /** Deterministic changes of about 1-8 KB, with every tuple state and the occasional message. */
    private static final class Generator {
        private final Random random;
        private final String pool;

        Generator(long seed) {
            random = new Random(seed);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < 20_000; i++) {
                sb.append((char) ('a' + random.nextInt(26)));
                if (i % 1000 == 0) {
                    sb.append('é');
                }
            }
            pool = sb.toString();
        }

        Change next(int i) {
            if (random.nextInt(100) == 0) {
                byte[] content = new byte[random.nextInt(500)];
                random.nextBytes(content);
                return new MessageChange("chorus.ddl", content);
            }
            int length = 1000 + random.nextInt(7000);
            int from = random.nextInt(pool.length() - length);
            String id = Integer.toString(i);
            Tuple.Builder b = Tuple.builder(3).setText(0, id).setText(1, pool.substring(from, from + length));
            Tuple tuple = random.nextBoolean() ? b.setNull(2).build() : b.setUnchanged(2).build();
            Tuple old = Tuple.ofTexts(id, pool.substring(0, 50), null);
            return new RowChange(DOCS, Op.UPDATE, tuple, old, false,
                    List.of(new Key(KeyKind.WRITE, DOCS.name(), "pkey", List.of(id))));
        }
    }
}
