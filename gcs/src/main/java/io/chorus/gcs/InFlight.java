package io.chorus.gcs;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * One log entry of the {@link Sender}: its records, its encoding under the current incarnation and number, and its
 * current attempt (the request's future, the attempt's deadline, the leader it went to). Owned by the sender thread.
 */
final class InFlight {
    private static final Logger LOG = LogManager.getLogger(InFlight.class);

    /** Where the current attempt stands. */
    enum State { PENDING, APPLIED, OUT_OF_ORDER, FAILED, UNANSWERED }

    private final List<Sender.Pending> records;
    private final String origin;
    private final long timeMillis = System.currentTimeMillis();
    private long batchNo;
    private byte[] bytes;
    private CompletableFuture<byte[]> attempt;
    private long attemptEnd;
    private Optional<NodeId> leader = Optional.empty();
    private int attempts;
    private int rejections;
    private EntryCodec.Response response;

    InFlight(List<Sender.Pending> records, String origin, long incarnation, long batchNo) {
        this.records = records;
        this.origin = origin;
        renumber(incarnation, batchNo);
    }

    void renumber(long incarnation, long number) {
        List<EntryCodec.Rec> recs = new ArrayList<>(records.size());
        for (Sender.Pending p : records) {
            recs.add(new EntryCodec.Rec(p.seq(), p.payload(), p.catalog()));
        }
        this.batchNo = number;
        this.rejections = 0;
        this.bytes = EntryCodec.encode(origin, incarnation, number, timeMillis, recs);
    }

    void attempt(CompletableFuture<byte[]> f, long endNanos, Optional<NodeId> to) {
        attempt = f;
        attemptEnd = endNanos;
        leader = to;
        attempts++;
        response = null;
    }

    /** The current attempt's state; a pending attempt counts as UNANSWERED once it is overdue or its leader changed. */
    State state(long now, Optional<NodeId> currentLeader) {
        if (!attempt.isDone()) {
            if (now - attemptEnd > 0) {
                LOG.info("entry {} not committed within {} ms via leader {}; resending", batchNo,
                        Sender.ATTEMPT_TIMEOUT.toMillis(), leader.orElse(null));
                return State.UNANSWERED;
            }
            if (!currentLeader.equals(leader)) {
                LOG.info("leader changed from {} to {} while entry {} was in flight; resending", leader.orElse(null),
                        currentLeader.orElse(null), batchNo);
                return State.UNANSWERED;
            }
            return State.PENDING;
        }
        try {
            response = EntryCodec.decodeResponse(attempt.get(), records.size());
        } catch (ExecutionException e) {
            LOG.debug("entry {} attempt via leader {} failed: {}", batchNo, leader.orElse(null), e.getCause().toString());
            return State.FAILED;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return State.FAILED;
        }
        if (response == null) {
            // not the state machine's answer (a request completed on a leader change, without applying): the outcome
            // is unknown, and resending is exact
            LOG.warn("entry {} answered without its {} GSNs via leader {}; resending", batchNo, records.size(),
                    leader.orElse(null));
            return State.UNANSWERED;
        }
        if (response.status() == EntryCodec.APPLIED) {
            return State.APPLIED;
        }
        rejections++;
        return State.OUT_OF_ORDER;
    }

    /** The entry number the log expects next (after an OUT_OF_ORDER answer). */
    long expectedBatch() {
        return response.expectedBatch();
    }

    void complete() {
        long[] gsns = response.gsns();
        for (int i = 0; i < records.size(); i++) {
            records.get(i).future().complete(Gsn.of(i < gsns.length ? gsns[i] : 0));
        }
    }

    void fail(GcsException e) {
        for (Sender.Pending p : records) {
            p.future().completeExceptionally(e);
        }
    }

    /** OUT_OF_ORDER answers since the entry got its current number. */
    int rejections() {
        return rejections;
    }

    boolean attempted() {
        return attempts > 0;
    }

    int attempts() {
        return attempts;
    }

    long batchNo() {
        return batchNo;
    }

    byte[] bytes() {
        return bytes;
    }

    List<Sender.Pending> records() {
        return records;
    }

    /** The deadline of the entry's first record. */
    long deadline() {
        return records.get(0).deadline();
    }
}
