package io.chorus.it.workload;

import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Contention on a unique secondary index: every node inserts rows whose {@code handle} comes from a small pool of
 * {@value #POOL}, renames rows to other pool handles and deletes them, so nodes race for the same handle. A row's
 * {@code created_by} never changes: on every node it must name the node encoded in the row's id.
 */
public final class UniqueHandles implements Workload {
    static final int POOL = 40;

    @Override
    public String name() {
        return "handles";
    }

    @Override
    public String schema() {
        return "CREATE TABLE handles (id bigint PRIMARY KEY, handle text NOT NULL UNIQUE, created_by text NOT NULL, renames int NOT NULL DEFAULT 0);\n";
    }

    @Override
    public Object transaction(Connection c, Random rnd, Writer w) throws SQLException {
        String handle = "h" + rnd.nextInt(POOL);
        int p = rnd.nextInt(100);
        if (p < 50) {
            Sql.exec(c, "INSERT INTO handles (id, handle, created_by) VALUES (?, ?, ?) ON CONFLICT (handle) DO NOTHING",
                    w.uniqueId(), handle, "node" + w.node());
        } else if (p < 80) {
            Sql.exec(c, "UPDATE handles SET handle = ?, renames = renames + 1 WHERE id = (SELECT id FROM handles "
                    + "WHERE handle <> ? ORDER BY handle LIMIT 1 OFFSET ?) AND NOT EXISTS (SELECT 1 FROM handles WHERE handle = ?)",
                    handle, handle, rnd.nextInt(4), handle);
        } else {
            Sql.exec(c, "DELETE FROM handles WHERE handle = ?", handle);
        }
        return null;
    }

    @Override
    public List<String> verify(Map<String, Connection> nodes) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Connection> n : nodes.entrySet()) {
            // Writer.uniqueId() ends in the node number (id % 64)
            List<String> wrong = Sql.column(n.getValue(), "SELECT id || ' by ' || created_by FROM handles "
                    + "WHERE created_by <> 'node' || (id % 64) ORDER BY id LIMIT 5");
            if (!wrong.isEmpty()) {
                problems.add("handles: " + n.getKey() + " holds rows whose creator does not match their id: " + wrong);
            }
        }
        return problems;
    }
}
