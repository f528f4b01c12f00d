package io.chorus.coordinator.domain;

import io.chorus.changeset.ChorusException;
import io.chorus.gcs.Group;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The group join of a starting domain, on a thread of its own. A join applies this member's own copy of the log
 * before it returns, and the records above the domain's W wait until the domain goes live; going live needs only the
 * replay up to W. So the start goes live while the join runs: a domain that restarts far behind its own log (its
 * applier lagged, then the server restarted) holds more records above W than the group's hand-off queue takes, and a
 * join that had to return first would never return.
 *
 * <p>Thread-safe. {@link #failure} never blocks; {@link #await} blocks up to its timeout.
 */
final class BackgroundJoin {
    private static final Logger LOG = LogManager.getLogger(BackgroundJoin.class);
    private final String database;
    private final CompletableFuture<Group> result = new CompletableFuture<>();

    /** Starts {@code join} on a daemon thread named after the database. */
    BackgroundJoin(String database, Supplier<Group> join) {
        this.database = database;
        Thread t = new Thread(() -> {
            try {
                result.complete(join.get());
            } catch (RuntimeException | Error e) {
                result.completeExceptionally(e);
            }
        }, "chorus-join-" + database);
        t.setDaemon(true);
        t.start();
    }

    /** The join's failure once it failed, else null. Never blocks. */
    ChorusException failure() {
        if (!result.isCompletedExceptionally()) {
            return null;
        }
        try {
            result.join();
            return null;
        } catch (java.util.concurrent.CompletionException e) {
            return asChorus(e.getCause());
        }
    }

    /** Waits for the joined group; throws the join's failure, or a timeout that names the database. */
    Group await(Duration timeout) throws InterruptedException {
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw asChorus(e.getCause());
        } catch (TimeoutException e) {
            throw new ChorusException("the group join of database " + database + " did not finish within "
                    + timeout.toMillis() + " ms after the domain went live; is a majority of the group up?", e);
        }
    }

    /** Closes the group once the join completes (at once when it has): the domain closes, maybe before the join ends. */
    void closeWhenJoined() {
        result.thenAccept(g -> {
            try {
                g.close();
            } catch (RuntimeException e) {
                LOG.warn("closing the group of {}: {}", database, e.getMessage());
            }
        });
    }

    private static ChorusException asChorus(Throwable t) {
        return t instanceof ChorusException ce ? ce : new ChorusException("group join failed: " + t, t);
    }
}
