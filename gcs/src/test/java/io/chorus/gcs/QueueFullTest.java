package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * An append that does not fit the log's processing queue is answered with a failure at once (its sender resends it
 * after a short pause), not dropped silently to wait out its attempt's 5 s deadline; one that fits stays queued.
 */
class QueueFullTest {
    /** The log protocol with a one-request queue, as a full queue under load looks to the next request. */
    private static final class OneSlot extends CatchUpRaft {
        OneSlot() {
            processing_queue = new ArrayBlockingQueue<>(1);
        }

        void append(CompletableFuture<byte[]> f) {
            add(new DownRequest(f, new byte[] {1, 2, 3}, 0, 3, false, null, false));
        }

        int queued() {
            return processing_queue.size();
        }
    }

    @Test
    void anAppendThatDoesNotFitFailsAtOnceWithTheReason() {
        OneSlot raft = new OneSlot();
        CompletableFuture<byte[]> fits = new CompletableFuture<>();
        CompletableFuture<byte[]> refused = new CompletableFuture<>();
        raft.append(fits);
        raft.append(refused);

        assertThat(raft.queued()).isEqualTo(1);
        assertThat(fits).as("the append that fit waits for the log").isNotDone();
        assertThat(refused).isCompletedExceptionally();
        ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, refused::get);
        assertThat(e.getCause()).hasMessage("the log's processing queue is full (1 requests): append not taken; "
                + "send it again");
        assertThat(raft.dropped()).isEqualTo(1);
    }
}
