package io.chorus.recovery;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Chooses the donor of a full transfer as a function of the log alone, so that every member that sees a
 * {@link TransferMessage.Request} names the same donor without talking to the others. Candidates are the members that
 * appended a record among the last {@link #WINDOW} GSNs (they were ordering, so they were in the primary component),
 * ranked by the highest watermark they last reported (up to date first), then by how few records they appended in
 * the window (least loaded first), then by node id. Attempt k of a request takes the k-th candidate (modulo their
 * number), so a joiner whose donor stays silent moves on to the next one.
 *
 * <p>Not thread-safe: fed and queried on the group's delivery thread only.
 */
public final class DonorChoice {
    /** How many of the latest records the ranking looks at. */
    public static final int WINDOW = 4096;

    private final Deque<NodeId> recent = new ArrayDeque<>(WINDOW);
    private final Map<NodeId, Integer> appended = new HashMap<>();
    private final Map<NodeId, Long> lastWatermark = new HashMap<>();

    /** One delivered record of {@code origin}; {@code watermark} is the W it reports, or null when it is not a report. */
    public void observe(NodeId origin, Gsn watermark) {
        recent.addLast(origin);
        appended.merge(origin, 1, Integer::sum);
        if (watermark != null) {
            lastWatermark.put(origin, watermark.value());
        }
        if (recent.size() > WINDOW) {
            NodeId old = recent.removeFirst();
            if (appended.merge(old, -1, Integer::sum) <= 0) {
                appended.remove(old);
                lastWatermark.remove(old);
            }
        }
    }

    /** The candidates, best first, never {@code joiner}. */
    public List<NodeId> ranking(NodeId joiner) {
        List<NodeId> out = new ArrayList<>(appended.keySet());
        out.remove(joiner);
        out.sort(Comparator.<NodeId>comparingLong(n -> -lastWatermark.getOrDefault(n, 0L))
                .thenComparingInt(n -> appended.getOrDefault(n, 0))
                .thenComparing(NodeId::value));
        return out;
    }

    /** The donor for this request: the ranking's candidate for its attempt, else the joiner's preference, else null. */
    public NodeId choose(TransferMessage.Request r) {
        List<NodeId> ranked = ranking(r.joiner());
        if (!ranked.isEmpty()) {
            return ranked.get(Math.floorMod(r.attempt(), ranked.size()));
        }
        return r.preferred() != null && !r.preferred().equals(r.joiner()) ? r.preferred() : null;
    }
}
