package io.chorus.it.workload;

import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Insert-heavy: each transaction inserts 1-5 rows with cluster-wide unique ids. Every acknowledged id must exist on
 * every node afterwards (none lost), and no row may exist that was neither acknowledged nor in doubt.
 */
public final class UniqueInserts implements Workload {
    private final Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
    private final Set<Long> inDoubt = ConcurrentHashMap.newKeySet();
    private final Set<Integer> runs = ConcurrentHashMap.newKeySet();

    @Override
    public String name() {
        return "inserts";
    }

    @Override
    public String schema() {
        return "CREATE TABLE ins_events (id bigint PRIMARY KEY, run int NOT NULL, origin text NOT NULL, payload text, at timestamptz NOT NULL DEFAULT now());\n";
    }

    @Override
    public Object transaction(Connection c, java.util.Random rnd, Writer w) throws SQLException {
        runs.add(w.run());
        int rows = 1 + rnd.nextInt(5);
        List<Long> ids = new ArrayList<>(rows);
        for (int r = 0; r < rows; r++) {
            long id = w.uniqueId() * 8 + r;
            Sql.exec(c, "INSERT INTO ins_events (id, run, origin, payload) VALUES (?, ?, ?, ?)", id, w.run(), "node" + w.node(), Long.toHexString(rnd.nextLong()));
            ids.add(id);
        }
        return ids;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void committed(Object token) {
        acknowledged.addAll((List<Long>) token);
    }

    @Override
    @SuppressWarnings("unchecked")
    public void inDoubt(Object token) {
        inDoubt.addAll((List<Long>) token);
    }

    public int acknowledgedCount() {
        return acknowledged.size();
    }

    private String runList() {
        return runs.isEmpty() ? "NULL" : String.join(", ", runs.stream().map(String::valueOf).toList());
    }

    @Override
    public List<String> verify(Map<String, Connection> nodes) throws SQLException {
        return AcknowledgedRows.verify("inserts", nodes, "SELECT id FROM ins_events WHERE run IN (" + runList() + ")",
                acknowledged, inDoubt);
    }
}
