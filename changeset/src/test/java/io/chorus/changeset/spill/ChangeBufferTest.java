package io.chorus.changeset.spill;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChorusException;
import io.chorus.changeset.wire.RandomChanges;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Seeded; prints its seed, replay with {@code -Dseed=<seed>}. */
class ChangeBufferTest {
    private static long seed;

    @TempDir
    Path dir;

    @BeforeAll
    static void chooseSeed() {
        seed = Long.getLong("seed", System.nanoTime());
        System.out.println("ChangeBufferTest seed=" + seed + " (replay with -Dseed=" + seed + ")");
    }

    private static List<Change> changes(int n) {
        RandomChanges gen = new RandomChanges(seed);
        List<Change> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(gen.change());
        }
        return list;
    }

    @Test
    void smallTransactionStaysInMemory() throws IOException {
        List<Change> expected = changes(20);
        try (ChangeBuffer buffer = new ChangeBuffer(1 << 20, dir)) {
            expected.forEach(buffer::add);
            assertThat(buffer.size()).isEqualTo(20);
            assertThat(buffer.bytes()).isPositive();
            List<Change> list = buffer.finish();
            assertThat(buffer.spilled()).isFalse();
            assertThat(list).isEqualTo(expected);
            assertThat(spillFiles()).isEmpty();
            assertThatThrownBy(() -> list.add(expected.get(0))).isInstanceOf(UnsupportedOperationException.class);
        }
    }

    @Test
    void largeTransactionSpillsAndStreamsBackExactly() throws IOException {
        List<Change> expected = changes(500);
        ChangeBuffer buffer = new ChangeBuffer(2000, dir);
        expected.forEach(buffer::add);
        List<Change> list = buffer.finish();
        assertThat(buffer.spilled()).isTrue();
        assertThat(spillFiles()).hasSize(1);
        assertThat(list).hasSize(500);
        assertThat(list).isEqualTo(expected);
        assertThat(new ArrayList<>(list)).isEqualTo(expected);
        assertThat(list.get(0)).isEqualTo(expected.get(0));
        assertThat(list.get(499)).isEqualTo(expected.get(499));
        assertThat(list.stream().skip(250).findFirst()).contains(expected.get(250));
        assertThatThrownBy(() -> list.remove(0)).isInstanceOf(UnsupportedOperationException.class);
        Iterator<Change> abandoned = list.iterator();
        abandoned.next();
        buffer.close();
        assertThat(spillFiles()).isEmpty();
        assertThatThrownBy(list::iterator).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("usable only until ChangeBuffer.close()");
        assertThatThrownBy(abandoned::next).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("iterate before ChangeBuffer.close()");
    }

    @Test
    void zeroThresholdSpillsFromTheFirstChange() throws IOException {
        List<Change> expected = changes(3);
        try (ChangeBuffer buffer = new ChangeBuffer(0, dir.resolve("sub"))) {
            buffer.add(expected.get(0));
            assertThat(buffer.spilled()).isTrue();
            buffer.add(expected.get(1));
            buffer.add(expected.get(2));
            assertThat(buffer.finish()).isEqualTo(expected);
        }
        assertThat(Files.list(dir.resolve("sub"))).isEmpty();
    }

    @Test
    void addAfterFinishIsRefused() {
        try (ChangeBuffer buffer = new ChangeBuffer(100, dir)) {
            buffer.finish();
            assertThatThrownBy(() -> buffer.add(changes(1).get(0))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("already finished");
        }
    }

    @Test
    void damagedSpillFileIsReportedNotMisread() throws IOException {
        try (ChangeBuffer buffer = new ChangeBuffer(0, dir)) {
            changes(50).forEach(buffer::add);
            List<Change> list = buffer.finish();
            Path file = spillFiles().get(0);
            long size = Files.size(file);
            try (var ch = Files.newByteChannel(file, StandardOpenOption.WRITE)) {
                ch.position(size / 2).write(java.nio.ByteBuffer.wrap(new byte[] {0x55, 0x55, 0x55}));
            }
            assertThatThrownBy(() -> list.forEach(c -> { }))
                    .isInstanceOf(ChorusException.class)
                    .hasMessageContaining("from spill file " + file)
                    .hasMessageContaining("damaged on disk");
        }
    }

    private List<Path> spillFiles() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".spill")).toList();
        }
    }
}
