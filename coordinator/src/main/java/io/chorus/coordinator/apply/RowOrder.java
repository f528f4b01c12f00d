package io.chorus.coordinator.apply;

import io.chorus.changeset.Op;
import io.chorus.changeset.RelationName;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The order in which batched mode sends the rows of one apply transaction, so that rows of one statement shape travel
 * together instead of one round trip per row when the changesets interleave tables (TPC-B: account, teller, branch,
 * history, again and again).
 *
 * <p>Why it is the same transaction: the helpers run with session_replication_role = replica, so no foreign-key
 * trigger fires and rows of different tables do not see each other; unique and exclusion constraints are per table.
 * So the rows are grouped by table (tables in order of first appearance), and a table's rows keep their order
 * except where they provably commute:
 * <ul>
 *   <li>when no row of the table in this transaction carries a secondary unique key or changes its identity, rows of
 *       different identities touch different index entries, so each row's k-th write goes in the k-th generation,
 *       and a generation's rows go grouped by shape; one identity's writes keep their order;</li>
 *   <li>an UPDATE that follows an UPDATE of the same identity and writes every column it wrote replaces it (nothing
 *       can observe the version in between).</li>
 * </ul>
 * Anything doubtful keeps the decoded order; an error or a missing row in batched mode re-runs the batch in careful
 * mode, which never reorders. Triggers enabled ALWAYS (rare on replicated tables) see rows in the arranged order.
 *
 * <p>Stateless; thread-safe.
 */
final class RowOrder {
    /** One row write of a unit; {@code secondaryUnique}: its change carries a unique-index key besides the identity. */
    record Row(ApplyUnit unit, RowStatement statement, boolean secondaryUnique) {
    }

    private record Placed(Row row, int generation, int shapeRank, int seq) {
    }

    private RowOrder() {
    }

    /** The rows in sending order; every row is kept except UPDATEs replaced by a later UPDATE of the same row. */
    static List<Row> arrange(List<Row> rows) {
        Map<RelationName, List<Row>> byTable = new LinkedHashMap<>();
        for (Row r : rows) {
            byTable.computeIfAbsent(r.statement().relation(), k -> new ArrayList<>()).add(r);
        }
        List<Row> out = new ArrayList<>(rows.size());
        for (List<Row> table : byTable.values()) {
            out.addAll(independent(table) ? byGeneration(table) : table);
        }
        return out;
    }

    private static boolean independent(List<Row> table) {
        for (Row r : table) {
            if (r.secondaryUnique() || r.statement().movesKey()) {
                return false;
            }
        }
        return true;
    }

    private static List<Row> byGeneration(List<Row> table) {
        Map<RowStatement.Shape, Integer> shapeRanks = new HashMap<>();
        Map<List<String>, Integer> latest = new HashMap<>();
        List<Placed> placed = new ArrayList<>(table.size());
        for (Row r : table) {
            int rank = shapeRanks.computeIfAbsent(r.statement().shape(), s -> shapeRanks.size());
            Integer at = latest.get(r.statement().identity());
            if (at != null && replaces(r.statement(), placed.get(at).row().statement())) {
                Placed old = placed.get(at);
                placed.set(at, new Placed(r, old.generation(), rank, old.seq()));
                continue;
            }
            int generation = at == null ? 0 : placed.get(at).generation() + 1;
            latest.put(r.statement().identity(), placed.size());
            placed.add(new Placed(r, generation, rank, placed.size()));
        }
        placed.sort(Comparator.comparingInt(Placed::generation).thenComparingInt(Placed::shapeRank)
                .thenComparingInt(Placed::seq));
        List<Row> out = new ArrayList<>(placed.size());
        for (Placed p : placed) {
            out.add(p.row());
        }
        return out;
    }

    /** Whether UPDATE {@code later} makes UPDATE {@code earlier} of the same identity invisible. */
    private static boolean replaces(RowStatement later, RowStatement earlier) {
        if (later.op() != Op.UPDATE || earlier.op() != Op.UPDATE
                || !later.shape().nullMatch().equals(earlier.shape().nullMatch())) {
            return false;
        }
        BitSet missing = (BitSet) earlier.shape().written().clone();
        missing.andNot(later.shape().written());
        return missing.isEmpty();
    }
}
