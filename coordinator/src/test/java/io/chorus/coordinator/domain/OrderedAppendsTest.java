package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.ChorusException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records that come before the appender exists (a barrier the capture decodes during a restart's catch-up, the local
 * commits around it) are held and reach the group in the order they came, ahead of a record submitted while the
 * appends open; after the domain closed nothing reaches the group and nothing throws.
 */
class OrderedAppendsTest {
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final List<String> appended = new CopyOnWriteArrayList<>();

    @Test
    @Timeout(60)
    void recordsBeforeTheOpenGoFirstInOrderAndARecordDuringTheOpenWaitsBehindThem() throws Exception {
        OrderedAppends appends = new OrderedAppends("app");
        AtomicReference<Thread> racer = new AtomicReference<>();
        appends.submit("commit 1", () -> item(100, "commit 1"));
        appends.submit("barrier", () -> item(0, "barrier"));
        appends.submit("commit 2", () -> {
            // handed over inside the open: a capture thread submitting now must wait behind the held records
            Thread t = new Thread(() -> {
                try {
                    appends.submit("commit 3", () -> item(300, "commit 3"));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "racing-capture");
            racer.set(t);
            t.start();
            await("the racing submit to wait for the open", () -> t.getState() == Thread.State.WAITING);
            return item(200, "commit 2");
        });
        assertThat(appends.held()).isEqualTo(3);
        assertThat(appended).as("nothing reaches the group before the appends open").isEmpty();

        try (Appender appender = appender()) {
            appender.start();
            assertThat(appends.open(appender)).as("records held before the open").isEqualTo(3);
            racer.get().join(WAIT.toMillis());
            await("four records appended", () -> appended.size() == 4);
            assertThat(appended).containsExactly("100 commit 1", "0 barrier", "200 commit 2", "300 commit 3");
            assertThat(appends.held()).isZero();

            appends.submit("watermark", () -> item(0, "watermark"));
            await("a record after the open appended", () -> appended.size() == 5);
            assertThat(appended.get(4)).isEqualTo("0 watermark");
        }
    }

    @Test
    void aClosedDomainAppendsNothingAndRefusesWithoutThrowing() throws Exception {
        OrderedAppends appends = new OrderedAppends("app");
        appends.submit("commit 1", () -> item(100, "commit 1"));
        appends.close();
        assertThat(appends.held()).as("held records dropped at close").isZero();
        appends.submit("barrier", () -> {
            throw new AssertionError("a record refused after close must not be encoded");
        });
        try (Appender appender = appender()) {
            appender.start();
            assertThat(appends.open(appender)).as("a closed instance hands nothing over").isZero();
            appends.submit("commit 2", () -> item(200, "commit 2"));
        }
        assertThat(appended).isEmpty();
    }

    private Appender appender() {
        AtomicReference<ChorusException> fatal = new AtomicReference<>();
        return new Appender("test-append", new Appender.Sink() {
            @Override
            public CompletableFuture<?> append(long originSeq, byte[] payload, java.util.Map<Long, byte[]> catalog) {
                appended.add(originSeq + " " + new String(payload, StandardCharsets.UTF_8));
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public void resume() {
            }
        }, 100, 1 << 20, 8, dir.resolve("spill").resolve("records.spill"), () -> true, fatal::set);
    }

    private static Appender.Item item(long originSeq, String text) {
        return new Appender.Item(originSeq, text.getBytes(StandardCharsets.UTF_8));
    }

    private static void await(String what, BooleanSupplier condition) {
        Awaitility.await(what).atMost(WAIT).pollInterval(Duration.ofMillis(5)).until(condition::getAsBoolean);
    }
}
