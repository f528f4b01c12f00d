package io.chorus.gcs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Assertions over delivered sequences (tests). */
final class Checks {
    private Checks() {
    }

    /**
     * GSNs contiguous from {@code firstGsn}, no (origin, seq) twice, and each origin's records in the order of their
     * seqs (for seq > 0; test writers append in seq order).
     */
    static void gapFreeAndDuplicateFree(List<RecordingListener.Delivery> ds, long firstGsn) {
        Set<String> seen = new HashSet<>();
        Map<String, Long> lastSeq = new HashMap<>();
        for (int i = 0; i < ds.size(); i++) {
            RecordingListener.Delivery d = ds.get(i);
            assertThat(d.gsn()).as("GSN at position %d", i).isEqualTo(firstGsn + i);
            if (d.seq() > 0) {
                assertThat(seen.add(d.origin() + "/" + d.seq())).as("record %s/%d delivered once", d.origin(),
                        d.seq()).isTrue();
                Long before = lastSeq.put(d.origin(), d.seq());
                assertThat(before == null || before < d.seq()).as("record %s/%d (GSN %d) after %s/%d: in append order",
                        d.origin(), d.seq(), d.gsn(), d.origin(), before).isTrue();
            }
        }
    }

    /** Every member's sequence is a prefix of (or equal to) the longest one. */
    static void samePrefix(List<List<RecordingListener.Delivery>> all) {
        List<RecordingListener.Delivery> longest = all.stream().max((a, b) -> Integer.compare(a.size(), b.size()))
                .orElseThrow();
        for (List<RecordingListener.Delivery> ds : all) {
            assertThat(ds).isEqualTo(longest.subList(0, ds.size()));
        }
    }

    /**
     * {@code actual} is {@code expected}; otherwise fails naming the sizes, the first position where they differ and
     * a few deliveries of each around it (a whole-list comparison prints only its ends).
     */
    static void sameSequence(String what, List<RecordingListener.Delivery> expected,
            List<RecordingListener.Delivery> actual) {
        int n = Math.min(expected.size(), actual.size());
        int i = 0;
        while (i < n && expected.get(i).equals(actual.get(i))) {
            i++;
        }
        if (i == n && expected.size() == actual.size()) {
            return;
        }
        int from = Math.max(0, i - 2);
        throw new AssertionError(what + ": sizes " + expected.size() + " and " + actual.size() + ", first difference at "
                + "position " + i + "\n  expected " + expected.subList(from, Math.min(expected.size(), i + 5))
                + "\n  actual   " + actual.subList(from, Math.min(actual.size(), i + 5)));
    }

    /** Every acknowledged append ("origin/seq") is in the delivered sequence. */
    static void everyAcknowledgedDelivered(List<RecordingListener.Delivery> seq, List<String> acked) {
        Set<String> delivered = new HashSet<>();
        seq.forEach(d -> delivered.add(d.origin() + "/" + d.seq()));
        assertThat(acked.stream().filter(a -> !delivered.contains(a)).toList())
                .as("acknowledged appends not delivered (of %d)", acked.size()).isEmpty();
    }
}
