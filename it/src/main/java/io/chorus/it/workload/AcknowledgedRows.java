package io.chorus.it.workload;

import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The check of workloads that insert rows with unique ids: on every node, every acknowledged id is present and
 * every present id was acknowledged or in doubt (nothing lost, nothing invented).
 */
public final class AcknowledgedRows {
    private AcknowledgedRows() {
    }

    /**
     * One problem per node where {@code idQuery} (one id column) disagrees with the acknowledgements, described
     * for a person under {@code label}.
     */
    public static List<String> verify(String label, Map<String, Connection> nodes, String idQuery, Set<Long> acknowledged,
                                      Set<Long> inDoubt) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Connection> n : nodes.entrySet()) {
            Set<Long> present = new HashSet<>();
            for (String id : Sql.column(n.getValue(), idQuery)) {
                present.add(Long.parseLong(id));
            }
            Set<Long> lost = new HashSet<>(acknowledged);
            lost.removeAll(present);
            Set<Long> unexpected = new HashSet<>(present);
            unexpected.removeAll(acknowledged);
            unexpected.removeAll(inDoubt);
            if (!lost.isEmpty() || !unexpected.isEmpty()) {
                problems.add(label + ": " + n.getKey() + " lost " + lost.size() + " acknowledged rows (e.g. "
                        + lost.stream().limit(5).toList() + ") and holds " + unexpected.size() + " rows never acknowledged (e.g. "
                        + unexpected.stream().limit(5).toList() + "); acknowledged " + acknowledged.size() + ", in doubt " + inDoubt.size());
            }
        }
        return problems;
    }
}
