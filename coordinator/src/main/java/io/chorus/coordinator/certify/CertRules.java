package io.chorus.coordinator.certify;

import io.chorus.changeset.Change;
import io.chorus.changeset.Gsn;
import io.chorus.changeset.Key;
import io.chorus.changeset.KeyKind;
import io.chorus.changeset.MessageChange;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.schema.DdlMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The clash and same-origin (R2) rules of DESIGN §3, in one place: the {@link Certifier} applies them to the log and
 * the loser's origin ({@code PendingTracker}) applies them to its pending changesets, so both always agree.
 *
 * <p>Stateless and thread-safe, except the package-private switch that disables R2 for the ablation test.
 */
public final class CertRules {
    /** Test switch: when false, R2 is ignored everywhere (the ablation must then find divergence). */
    static volatile boolean sameOriginRule = true;

    private CertRules() {
    }

    /** Whether two keys are on the same item; a TABLE key meets every item of its relation. */
    public static boolean meets(Key a, Key b) {
        if (!a.relation().equals(b.relation())) {
            return false;
        }
        if (a.kind() == KeyKind.TABLE || b.kind() == KeyKind.TABLE) {
            return true;
        }
        return a.index().equals(b.index()) && a.values().equals(b.values());
    }

    /** Whether two keys meet and their kinds clash ({@link KeyKind#clashesWith}). */
    public static boolean clashes(Key a, Key b) {
        return meets(a, b) && a.kind().clashesWith(b.kind());
    }

    /**
     * R2: whether a later key of an origin depends on a key of an earlier lost change of the same origin: they clash,
     * or the later key REFERENCEs a parent the lost change WROTE.
     */
    public static boolean dependsOn(Key later, Key lost) {
        if (!meets(later, lost)) {
            return false;
        }
        return later.kind().clashesWith(lost.kind())
                || later.kind() == KeyKind.REFERENCE && lost.kind() == KeyKind.WRITE;
    }

    /**
     * R2 for one change with {@code keys} of a changeset with {@code deps}: among {@code earlierLost} (earlier changes
     * of the same origin that lost, in order), the dependency with the lowest cause above {@code deps}, or null.
     */
    public static <L extends LostChange> Dependency<L> sameOriginCause(List<Key> keys, Iterable<L> earlierLost,
                                                                       Gsn deps) {
        return sameOriginCause(keys, earlierLost, deps, null);
    }

    /**
     * {@link #sameOriginCause(List, Iterable, Gsn)} after {@code before}, the answer for the losses before
     * {@code earlierLost}, {@code before} (null if none): a loss here replaces it only with a lower cause.
     */
    static <L extends LostChange> Dependency<L> sameOriginCause(List<Key> keys, Iterable<L> earlierLost, Gsn deps,
                                                                Dependency<L> before) {
        if (!sameOriginRule || keys.isEmpty()) {
            return null;
        }
        Dependency<L> best = before;
        for (L lost : earlierLost) {
            if (!lost.cause().isAfter(deps) || best != null && !lost.cause().isBefore(best.lost().cause())) {
                continue;
            }
            Dependency<L> found = firstDependency(keys, lost);
            if (found != null) {
                best = found;
            }
        }
        return best;
    }

    static <L extends LostChange> Dependency<L> firstDependency(List<Key> keys, L lost) {
        for (Key k : keys) {
            for (Key lk : lost.keys()) {
                if (dependsOn(k, lk)) {
                    return new Dependency<>(k, lost, lk);
                }
            }
        }
        return null;
    }

    /**
     * The certification keys of a change: a row change's own keys, a TABLE key per truncated relation, a TABLE key per
     * relation a DDL statement touched, none for other logical messages (they are not certified).
     */
    public static List<Key> keysOf(Change change) {
        if (change instanceof RowChange rc) {
            return rc.keys();
        }
        if (DdlMessage.isDdl(change)) {
            return DdlMessage.of((MessageChange) change).tableKeys();
        }
        if (change instanceof TruncateChange tc) {
            List<Key> keys = new ArrayList<>(tc.relations().size());
            for (RelationName r : tc.relations()) {
                keys.add(Key.table(r));
            }
            return keys;
        }
        return List.of();
    }

    /**
     * Whether a change can lose. A DDL statement cannot: it committed at its origin and cannot be rolled back there,
     * so it applies on every node; its TABLE keys go into the index, where concurrent changes that did not see it
     * meet them and lose (see the package note).
     */
    public static boolean canLose(Change change) {
        return !(change instanceof MessageChange);
    }

    /** The lower-case operation name used in conflict kinds: insert, update, delete, truncate, ddl (message). */
    public static String opName(Change change) {
        if (change instanceof RowChange rc) {
            return rc.op().name().toLowerCase(Locale.ROOT);
        }
        if (change instanceof TruncateChange) {
            return "truncate";
        }
        if (DdlMessage.isDdl(change)) {
            return "ddl";
        }
        if (change instanceof MessageChange) {
            return "message";
        }
        throw new IllegalArgumentException("unknown change type " + change.getClass().getName());
    }
}
