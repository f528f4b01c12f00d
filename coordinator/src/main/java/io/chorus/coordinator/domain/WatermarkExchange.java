package io.chorus.coordinator.domain;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.NodeId;
import io.chorus.gcs.Membership;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * What a node outside the primary component tells the operator (DESIGN §7, whole-cluster restart): the W every
 * present member announced, the voters it waits for, and the highest W seen. The group's log decides who restarts
 * from what (a leader needs the votes of a majority and the most complete log, so the highest W of a majority wins);
 * this makes the decision visible, in {@code chorus.status()}'s phase and in the log (on every change and every
 * 30 s while it waits). Not thread-safe: called from the domain's watermark timer; the text is read through a
 * volatile field.
 */
final class WatermarkExchange {
    private static final Logger LOG = LogManager.getLogger(WatermarkExchange.class);
    private static final long REPEAT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private volatile String text;
    private String logged;
    private long loggedAt;

    /** The text for a node that is not in a primary component, and logs it when it changed or every 30 s. */
    void update(Membership m, Map<NodeId, Gsn> announced, Gsn ownW) {
        if (m == null || m.primary()) {
            if (text != null) {
                LOG.info("watermark exchange: in a primary component again; W announced {}", describe(announced));
            }
            text = null;
            logged = null;
            return;
        }
        List<NodeId> missing = m.voters().stream().filter(v -> !m.present().contains(v)).toList();
        Map.Entry<NodeId, Gsn> highest = announced.entrySet().stream().max(Map.Entry.comparingByValue(
                (a, b) -> Long.compare(a.value(), b.value()))).orElse(null);
        String now = "waiting for a primary component: " + m.present().size() + " of " + m.voters().size()
                + " voters present, " + (m.voters().size() / 2 + 1) + " needed; waiting for " + missing
                + "; W announced " + describe(announced) + "; highest W seen "
                + (highest == null ? "none" : highest.getValue() + " (" + highest.getKey() + ")") + ", this node's W "
                + ownW + ". The group restarts from the most complete log of a majority; nothing is ordered until then";
        text = now;
        long t = System.nanoTime();
        if (!now.equals(logged) || t - loggedAt > REPEAT_NANOS) {
            logged = now;
            loggedAt = t;
            LOG.warn("watermark exchange: {}", now);
        }
    }

    /** The current text, or null inside a primary component. */
    String text() {
        return text;
    }

    private static String describe(Map<NodeId, Gsn> announced) {
        StringBuilder sb = new StringBuilder("{");
        announced.forEach((n, w) -> sb.append(sb.length() > 1 ? ", " : "").append(n).append('=').append(w));
        return sb.append('}').toString();
    }
}
