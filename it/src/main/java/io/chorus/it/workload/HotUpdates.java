package io.chorus.it.workload;

import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Update-heavy on a hot set of {@value #HOT} rows: most transactions conflict with some other node's. */
public final class HotUpdates implements Workload {
    static final int HOT = 20;

    @Override
    public String name() {
        return "hot";
    }

    @Override
    public String schema() {
        return "CREATE TABLE hot_rows (id int PRIMARY KEY, counter bigint NOT NULL, note text);\n"
                + "INSERT INTO hot_rows SELECT g, 0, 'seed' FROM generate_series(1, " + HOT + ") g;\n";
    }

    @Override
    public Object transaction(Connection c, Random rnd, Writer w) throws SQLException {
        int first = 1 + rnd.nextInt(HOT);
        int rows = 1 + rnd.nextInt(2);
        for (int r = 0; r < rows; r++) {
            Sql.exec(c, "UPDATE hot_rows SET counter = counter + 1, note = ? WHERE id = ?",
                    "node" + w.node() + "/" + w.index() + "#" + w.sequence(), 1 + (first + r - 1) % HOT);
        }
        return null;
    }

    @Override
    public List<String> verify(Map<String, Connection> nodes) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Connection> n : nodes.entrySet()) {
            long rows = Sql.number(n.getValue(), "SELECT count(*) FROM hot_rows");
            if (rows != HOT) {
                problems.add("hot: " + n.getKey() + " holds " + rows + " hot rows, expected " + HOT + " (no workload inserts or deletes)");
            }
        }
        return problems;
    }
}
