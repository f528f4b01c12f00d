package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The state machine alone, over bytes: numbering, dedupe of re-sent records and re-sent entries, snapshots. The
 * randomized case prints its seed; replay with {@code -Dchorus.seed=<seed>}.
 */
class LogStateMachineTest {

    private static byte[] entry(String origin, long incarnation, long batchNo, long... seqs) {
        List<EntryCodec.Rec> recs = new ArrayList<>();
        for (long s : seqs) {
            recs.add(new EntryCodec.Rec(s, (origin + "/" + s).getBytes(StandardCharsets.UTF_8)));
        }
        return EntryCodec.encode(origin, incarnation, batchNo, 1234L, recs);
    }

    /** The GSNs the state machine answers, or {-expected entry number} when it rejects the entry as out of order. */
    private static long[] apply(LogStateMachine sm, byte[] e) {
        EntryCodec.Response r = EntryCodec.decodeResponse(sm.apply(e, 0, e.length, true),
                EntryCodec.decode(e, 0, e.length).records().size());
        return r.status() == EntryCodec.APPLIED ? r.gsns() : new long[] {-r.expectedBatch()};
    }

    @Test
    @Timeout(30)
    void entriesOfAnOriginApplyOnlyInTheirOrder() throws Exception {
        RecordingListener l = new RecordingListener();
        Deliverer d = new Deliverer(NodeId.of("n1"), l, Gsn.NONE, 100);
        d.start();
        LogStateMachine sm = new LogStateMachine(d);
        assertThat(apply(sm, entry("n1", 1, 1, 1))).containsExactly(1);
        assertThat(apply(sm, entry("n1", 1, 3, 3))).as("entry 2 is missing").containsExactly(-2);
        assertThat(apply(sm, entry("n1", 1, 2, 2))).containsExactly(2);
        assertThat(apply(sm, entry("n1", 1, 3, 3))).as("sent again after entry 2").containsExactly(3);
        assertThat(apply(sm, entry("n1", 1, 2, 2))).as("a late retry of entry 2").containsExactly(2);
        assertThat(apply(sm, entry("n1", 9, 2, 4))).as("a new incarnation starts at 1").containsExactly(-1);
        assertThat(apply(sm, entry("n1", 9, 1, 4))).containsExactly(4);
        l.awaitGsn(4, Duration.ofSeconds(5));
        assertThat(l.deliveries()).extracting(RecordingListener.Delivery::payload)
                .containsExactly("n1/1", "n1/2", "n1/3", "n1/4");
        d.close();
    }

    @Test
    @Timeout(30)
    void codecRoundTrip() {
        byte[] e = entry("n1", 7, 9, 1, 0, 5);
        EntryCodec.Entry d = EntryCodec.decode(e, 0, e.length);
        assertThat(d.origin()).isEqualTo("n1");
        assertThat(d.incarnation()).isEqualTo(7);
        assertThat(d.batchNo()).isEqualTo(9);
        assertThat(EntryCodec.timeMillis(e, 0)).isEqualTo(1234L);
        assertThat(d.records()).extracting(EntryCodec.Rec::seq).containsExactly(1L, 0L, 5L);
        assertThat(new String(d.records().get(2).payload(), StandardCharsets.UTF_8)).isEqualTo("n1/5");
    }

    @Test
    @Timeout(30)
    void catalogEntriesAreKnownBeforeTheirRecordIsDeliveredAndTravelInSnapshots() throws Exception {
        byte[] def = "definition of version 42".getBytes(StandardCharsets.UTF_8);
        RecordingListener l = new RecordingListener();
        Deliverer d = new Deliverer(NodeId.of("n1"), l, Gsn.NONE, 100);
        LogStateMachine sm = new LogStateMachine(d);
        List<byte[]> seenAtDelivery = new ArrayList<>();
        l.onDelivery(x -> seenAtDelivery.add(sm.catalogEntry(42L)));
        d.start();
        byte[] withEntry = EntryCodec.encode("n1", 1, 1, 1234L, List.of(new EntryCodec.Rec(1, "r1".getBytes(
                StandardCharsets.UTF_8), Map.of(42L, def)), new EntryCodec.Rec(2, "r2".getBytes(StandardCharsets.UTF_8))));
        EntryCodec.Entry decoded = EntryCodec.decode(withEntry, 0, withEntry.length);
        assertThat(decoded.records().get(0).catalog()).containsOnlyKeys(42L);
        assertThat(decoded.records().get(1).catalog()).isEmpty();
        assertThat(sm.catalogEntry(42L)).isNull();
        assertThat(apply(sm, withEntry)).containsExactly(1, 2);
        l.awaitGsn(2, Duration.ofSeconds(5));
        assertThat(seenAtDelivery).as("the entry is there when its own record is delivered").containsExactly(def, def);
        // the same id again with other bytes (a forged or corrupted record) does not replace what is known
        apply(sm, EntryCodec.encode("n1", 1, 2, 1234L, List.of(new EntryCodec.Rec(3, new byte[1],
                Map.of(42L, new byte[] {1, 2})))));
        assertThat(sm.catalogEntry(42L)).isEqualTo(def);

        ByteArrayOutputStream snap = new ByteArrayOutputStream();
        sm.writeContentTo(new DataOutputStream(snap));
        LogStateMachine restored = new LogStateMachine(new Deliverer(NodeId.of("n2"), new RecordingListener(),
                Gsn.of(3), 100));
        restored.readContentFrom(new DataInputStream(new ByteArrayInputStream(snap.toByteArray())));
        assertThat(restored.catalogEntry(42L)).isEqualTo(def);
        assertThat(restored.catalogEntry(43L)).isNull();
        d.close();
    }

    @Test
    @Timeout(30)
    void entriesOfTheFormerFormatStillReplay() {
        byte[] v2 = entry("n1", 7, 9, 1, 5);
        byte[] current = v2.clone();
        // re-write as the former format: version byte 2, records without the catalog count
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(current);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataOutputStream o = new DataOutputStream(out);
        try {
            in.get();
            o.writeByte(2);
            byte[] head = new byte[2 + 2 + 24 + 4];
            in.get(head);
            o.write(head);
            for (int i = 0; i < 2; i++) {
                o.writeLong(in.getLong());
                assertThat(in.getInt()).isZero();
                byte[] p = new byte[in.getInt()];
                in.get(p);
                o.writeInt(p.length);
                o.write(p);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        byte[] former = out.toByteArray();
        EntryCodec.Entry e = EntryCodec.decode(former, 0, former.length);
        assertThat(e.version()).isEqualTo(2);
        assertThat(e.records()).extracting(EntryCodec.Rec::seq).containsExactly(1L, 5L);
        assertThat(new String(e.records().get(1).payload(), StandardCharsets.UTF_8)).isEqualTo("n1/5");
    }

    @Test
    @Timeout(30)
    void resentEntryGetsItsFirstAnswerAndResentRecordsAreDropped() throws Exception {
        RecordingListener l = new RecordingListener();
        Deliverer d = new Deliverer(NodeId.of("n1"), l, Gsn.NONE, 100);
        d.start();
        LogStateMachine sm = new LogStateMachine(d);
        assertThat(apply(sm, entry("n1", 1, 1, 1, 2, 0))).containsExactly(1, 2, 3);
        assertThat(apply(sm, entry("n1", 1, 1, 1, 2, 0))).as("same entry re-sent").containsExactly(1, 2, 3);
        assertThat(apply(sm, entry("n2", 1, 1, 1))).containsExactly(4);
        assertThat(apply(sm, entry("n1", 2, 1, 2, 3))).as("new incarnation re-sends seq 2").containsExactly(2, 5);
        ByteArrayOutputStream snap = new ByteArrayOutputStream();
        sm.writeContentTo(new DataOutputStream(snap));

        RecordingListener l2 = new RecordingListener();
        Deliverer d2 = new Deliverer(NodeId.of("n1"), l2, Gsn.of(5), 100);
        d2.start();
        LogStateMachine restored = new LogStateMachine(d2);
        restored.readContentFrom(new DataInputStream(new ByteArrayInputStream(snap.toByteArray())));
        assertThat(apply(restored, entry("n1", 2, 1, 2, 3))).as("dedupe state is in the snapshot")
                .containsExactly(2, 5);
        assertThat(apply(restored, entry("n1", 3, 1, 3, 4))).containsExactly(5, 6);
        l.awaitGsn(5, Duration.ofSeconds(5));
        l2.awaitGsn(6, Duration.ofSeconds(5));
        assertThat(l.deliveries()).extracting(RecordingListener.Delivery::payload)
                .containsExactly("n1/1", "n1/2", "n1/0", "n2/1", "n1/3");
        assertThat(l2.deliveries()).extracting(RecordingListener.Delivery::payload).containsExactly("n1/4");
        assertThat(l2.transfers()).isEmpty();
        d.close();
        d2.close();
    }

    @Test
    @Timeout(60)
    void randomResendsDeliverEveryRecordExactlyOnceInOrder() throws Exception {
        long seed = Long.getLong("chorus.seed", System.nanoTime());
        System.out.println("LogStateMachineTest seed " + seed + " (replay with -Dchorus.seed=" + seed + ")");
        Random rnd = new Random(seed);
        RecordingListener l = new RecordingListener();
        Deliverer d = new Deliverer(NodeId.of("n1"), l, Gsn.NONE, 100_000);
        d.start();
        LogStateMachine sm = new LogStateMachine(d);
        Map<String, Long> nextSeq = new HashMap<>();
        Map<String, Long> batchNo = new HashMap<>();
        Map<String, Long> incarnation = new HashMap<>();
        List<String> expected = new ArrayList<>();
        byte[] last = null;
        for (int step = 0; step < 5_000; step++) {
            int choice = rnd.nextInt(10);
            if (choice == 0 && last != null) {
                apply(sm, last); // an attempt whose answer was lost is re-sent
                continue;
            }
            String origin = "n" + (1 + rnd.nextInt(3));
            long first = nextSeq.getOrDefault(origin, 1L);
            if (choice == 1 && first > 3) {
                // a restarted origin re-sends some records it had sent (new incarnation), then new ones
                long from = first - 1 - rnd.nextInt(3);
                incarnation.put(origin, step + 1_000_000L);
                batchNo.put(origin, 1L);
                last = entry(origin, step + 1_000_000L, 1, from, from + 1, first);
            } else {
                int n = 1 + rnd.nextInt(4);
                long[] seqs = new long[n];
                for (int i = 0; i < n; i++) {
                    seqs[i] = first + i;
                }
                last = entry(origin, incarnation.getOrDefault(origin, 1L), batchNo.merge(origin, 1L, Long::sum), seqs);
            }
            EntryCodec.Entry e = EntryCodec.decode(last, 0, last.length);
            for (EntryCodec.Rec r : e.records()) {
                if (r.seq() >= nextSeq.getOrDefault(origin, 1L)) {
                    expected.add(origin + "/" + r.seq());
                    nextSeq.put(origin, r.seq() + 1);
                }
            }
            apply(sm, last);
        }
        l.awaitGsn(expected.size(), Duration.ofSeconds(30));
        assertThat(l.deliveries()).extracting(RecordingListener.Delivery::payload).as("seed %d", seed)
                .isEqualTo(expected);
        Checks.gapFreeAndDuplicateFree(l.deliveries(), 1);
        d.close();
    }
}
