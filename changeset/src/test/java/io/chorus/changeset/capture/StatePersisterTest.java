package io.chorus.changeset.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import io.chorus.changeset.capture.CaptureState.Position;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The persister reports as durable only what a save returned from, writes the newest request only, and fails loudly. */
class StatePersisterTest {
    private static final Position START = new Position(Lsn.of(100), Gsn.of(1));

    private static Position at(long lsn) {
        return new Position(Lsn.of(lsn), Gsn.of(lsn));
    }

    @Test
    void aPositionCountsAsPersistedOnlyOnceItsSaveReturnedAndWaitingRequestsCoalesce() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<Position> saved = new CopyOnWriteArrayList<>();
        Consumer<Position> save = p -> {
            entered.countDown();
            await(release);
            saved.add(p);
        };
        try (StatePersister persister = new StatePersister(save, START, "test-persist")) {
            persister.request(at(200));
            assertThat(entered.await(10, TimeUnit.SECONDS)).as("the first save started").isTrue();
            persister.request(at(300));
            persister.request(at(400));
            persister.request(at(350)); // older than a waiting request: ignored
            assertThat(persister.persisted()).as("nothing is durable while the save runs").isEqualTo(START);
            release.countDown();
            assertThat(persister.awaitPersisted(10_000)).as("every request written within 10 s").isTrue();
            assertThat(persister.persisted()).isEqualTo(at(400));
            assertThat(saved).as("the requests made during a save were written once, as the newest")
                    .containsExactly(at(200), at(400));
        }
    }

    @Test
    void aFailedSaveIsReportedOnceAndLeavesTheDurablePositionWhereItWas() throws Exception {
        CaptureException disk = new CaptureException("disk full", null, true);
        try (StatePersister persister = new StatePersister(p -> {
            throw disk;
        }, START, "test-persist")) {
            persister.request(at(200));
            assertThat(persister.awaitPersisted(10_000)).as("the failed request settled within 10 s").isTrue();
            assertThat(persister.persisted()).isEqualTo(START);
            assertThat(persister.takeFailure()).isSameAs(disk);
            assertThat(persister.takeFailure()).as("taken once").isNull();
        }
    }

    @Test
    void aRequestAtOrBeforeTheDurablePositionWritesNothingAndCloseWritesWhatWasAskedFor() throws Exception {
        List<Position> saved = new CopyOnWriteArrayList<>();
        StatePersister persister = new StatePersister(saved::add, START, "test-persist");
        persister.request(at(100));
        persister.request(at(50));
        assertThat(persister.awaitPersisted(1_000)).isTrue();
        persister.request(at(500));
        persister.close();
        assertThat(saved).containsExactly(at(500));
        assertThat(persister.persisted()).isEqualTo(at(500));
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test did not release the save within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
