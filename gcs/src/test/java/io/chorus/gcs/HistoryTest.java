package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The history line over values and bytes: which pairs of members may be in one group (same history; an older history
 * up to the shared GSN, on either side of the join), which are refused (past the fork, diverged), the message, the
 * state machine's fork and its snapshot.
 */
class HistoryTest {
    private static final History.Fork F1 = new History.Fork(new UUID(1, 1), NodeId.of("n1"), 7, 10, 12);
    private static final History.Fork F2 = new History.Fork(new UUID(2, 2), NodeId.of("n2"), 9, 30, 30);
    private static final History H1 = History.FIRST.then(F1);
    private static final History H2 = H1.then(F2);

    private static Optional<String> joining(History theirs, long theirGsn, History mine, long myGsn) {
        return History.refusal("n3", theirs, theirGsn, "n1", mine, myGsn);
    }

    @Test
    void membersOfOneHistoryAlwaysJoin() {
        assertThat(joining(History.FIRST, 100, History.FIRST, 5)).isEmpty();
        assertThat(joining(H1, 0, H1, 500)).isEmpty();
        assertThat(joining(H2, 900, H2, 31)).isEmpty();
    }

    @Test
    void anOlderHistoryJoinsUpToTheGsnItSharesOnEitherSide() {
        assertThat(joining(History.FIRST, 10, H1, 40)).as("up to the agreed GSN").isEmpty();
        assertThat(joining(History.FIRST, 0, H2, 40)).as("a new member").isEmpty();
        assertThat(joining(H1, 40, History.FIRST, 10)).as("the answering member is the older one").isEmpty();
        assertThat(joining(History.FIRST, 11, H1, 40)).as("past the agreed GSN, inside the fork's tail").isPresent();
        assertThat(joining(History.FIRST, 10, H2, 40)).as("shared with history 2: min(10, 30)").isEmpty();
        assertThat(joining(H1, 31, H2, 40)).isPresent();
        assertThat(joining(H1, 30, H2, 40)).isEmpty();
    }

    @Test
    void theRefusalNamesBothSidesTheForkAndTheFix() {
        assertThat(joining(History.FIRST, 15, H1, 40)).hasValueSatisfying(m -> assertThat(m)
                .isEqualTo("member n3 holds history 0 (the group's first) up to GSN 15, but the group (n1) continues in "
                        + "history 1 (00000000-0000-0001-0000-000000000001, forced by n1 in term 7 after GSN 12); "
                        + "history 0 (the group's first) was left by a forced bootstrap of n1 in term 7 at fork GSN 12 "
                        + "(the same records in both histories up to GSN 10): n3's log and database may hold GSNs "
                        + "11..15 that history 1 (00000000-0000-0001-0000-000000000001) does not have, or that carry "
                        + "other changesets there. n3 was removed from the voters by that bootstrap and is refused: "
                        + "stop n3, empty its group data directory and let it rejoin by a full transfer"));
        assertThat(joining(H2, 40, H1, 35)).hasValueSatisfying(m -> assertThat(m)
                .startsWith("member n1 holds history 1 (00000000-0000-0001-0000-000000000001, forced by n1 in term 7 "
                        + "after GSN 12) up to GSN 35, but n3 continues in history 2")
                .contains("left by a forced bootstrap of n2 in term 9 at fork GSN 30", "GSNs 31..35",
                        "(it is the one with the old data, though it answered the join)", "stop n1"));
    }

    @Test
    void divergedHistoriesNeverJoin() {
        History other = History.FIRST.then(new History.Fork(new UUID(3, 3), NodeId.of("n3"), 7, 10, 10));
        assertThat(joining(other, 5, H1, 5)).hasValueSatisfying(m -> assertThat(m).contains(
                "member n3 (history 1 (00000000-0000-0003-0000-000000000003", "and n1 (history 1 (",
                "hold diverged histories", "keep one side"));
    }

    @Test
    void theLineSurvivesBytes() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        H2.writeTo(new DataOutputStream(bytes));
        assertThat(bytes.size()).isLessThanOrEqualTo(H2.size());
        History read = History.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
        assertThat(read).isEqualTo(H2);
        assertThat(read.forks()).containsExactly(F1, F2);
        assertThat(read.generation()).isEqualTo(2);
        assertThat(read.id()).isEqualTo(F2.id());
    }

    @Test
    void theStateMachineForksAfterItsLastGsnAndKeepsTheLineInItsSnapshot() throws Exception {
        RecordingListener l = new RecordingListener();
        Deliverer d = new Deliverer(NodeId.of("n1"), l, Gsn.NONE, 100);
        d.start();
        try {
            LogStateMachine sm = new LogStateMachine(d);
            byte[] data = EntryCodec.encode("n2", 1, 1, 1L, List.of(new EntryCodec.Rec(1, "a".getBytes(
                    StandardCharsets.UTF_8)), new EntryCodec.Rec(2, "b".getBytes(StandardCharsets.UTF_8))));
            sm.apply(data, 0, data.length, false);
            byte[] start = EntryCodec.encodeHistory(new EntryCodec.HistoryStart(new UUID(5, 5), NodeId.of("n2"), 4,
                    1), 99L);
            assertThat(EntryCodec.timeMillis(start, 0)).as("retention reads its time like a data entry's")
                    .isEqualTo(99L);
            sm.apply(start, 0, start.length, true);
            assertThat(sm.appliedGsn()).as("the history entry numbers no record").isEqualTo(2);
            assertThat(sm.history().forks()).containsExactly(new History.Fork(new UUID(5, 5), NodeId.of("n2"), 4, 1,
                    2));

            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            sm.writeContentTo(new DataOutputStream(bytes));
            LogStateMachine copy = new LogStateMachine(d);
            copy.readContentFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));
            assertThat(copy.history()).isEqualTo(sm.history());
            assertThat(copy.appliedGsn()).isEqualTo(2);
        } finally {
            d.close();
        }
    }

    @Test
    void onlyAJoinerPastTheForkIsToldItMayRejoinByItself() {
        assertThat(History.judge("n3", History.FIRST, 11, "n1", H1, 40)).get()
                .extracting(History.Refusal::joinerPastFork).isEqualTo(true);
        assertThat(History.judge("n3", H1, 40, "n1", History.FIRST, 11)).as("the answering member is the stale one")
                .get().extracting(History.Refusal::joinerPastFork).isEqualTo(false);
        History other = History.FIRST.then(new History.Fork(new UUID(3, 3), NodeId.of("n4"), 8, 10, 10));
        assertThat(History.judge("n3", other, 20, "n1", H1, 40)).as("diverged").get()
                .extracting(History.Refusal::joinerPastFork).isEqualTo(false);
    }

    @Test
    void aMemberPresentsWhatItsDatabaseHoldsWhenItsLogHoldsLess() {
        assertThat(History.present(History.FIRST, 0, History.FIRST, 15)).as("group folder emptied")
                .contains(new History.Held(History.FIRST, 15));
        assertThat(History.present(History.FIRST, 0, H1, 40)).as("emptied, database of the newer history")
                .contains(new History.Held(H1, 40));
        assertThat(History.present(H1, 40, History.FIRST, 10)).as("database a prefix of the log's history")
                .contains(new History.Held(H1, 40));
        assertThat(History.present(H1, 40, History.FIRST, 11)).as("database past the fork the log has")
                .contains(new History.Held(History.FIRST, 11));
        assertThat(History.present(H1, 5, H1, 40)).contains(new History.Held(H1, 40));
        History other = History.FIRST.then(new History.Fork(new UUID(3, 3), NodeId.of("n4"), 8, 10, 10));
        assertThat(History.present(other, 20, H1, 40)).as("diverged").isEmpty();
    }

    @Test
    void aLineStoredAsTextReadsBack() {
        assertThat(History.decode(H2.encode())).isEqualTo(H2);
        assertThat(History.decode(null)).isEqualTo(History.FIRST);
        assertThat(History.decode(History.FIRST.encode())).isEqualTo(History.FIRST);
        assertThat(H2.forkGsn()).isEqualTo(30);
    }
}
