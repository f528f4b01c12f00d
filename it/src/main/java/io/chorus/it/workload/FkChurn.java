package io.chorus.it.workload;

import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Parent/child churn under a foreign key: writers add parents with children, delete their own parents with their
 * children, move children onto shared parents, and recreate shared parents. No node may ever hold an orphan child.
 */
public final class FkChurn implements Workload {
    static final int SHARED = 20;

    @Override
    public String name() {
        return "fk";
    }

    @Override
    public String schema() {
        return "CREATE TABLE fk_parent (id bigint PRIMARY KEY, label text);\n"
                + "CREATE TABLE fk_child (id bigint PRIMARY KEY, parent_id bigint NOT NULL REFERENCES fk_parent (id), v int);\n"
                + "CREATE INDEX ON fk_child (parent_id);\n"
                + "INSERT INTO fk_parent SELECT g, 'shared ' || g FROM generate_series(1, " + SHARED + ") g;\n";
    }

    @Override
    public Object transaction(Connection c, Random rnd, Writer w) throws SQLException {
        int p = rnd.nextInt(100);
        if (p < 40) {
            long parent = 1000 + w.uniqueId();
            Sql.exec(c, "INSERT INTO fk_parent VALUES (?, ?)", parent, "node" + w.node());
            for (int k = 0; k < 3; k++) {
                Sql.exec(c, "INSERT INTO fk_child VALUES (?, ?, ?)", parent * 4 + k, parent, k);
            }
        } else if (p < 65) {
            String victim = Sql.one(c, "SELECT min(id)::text FROM fk_parent WHERE id > 1000 AND id % 8 = " + w.node());
            if (victim != null) {
                Sql.exec(c, "DELETE FROM fk_child WHERE parent_id = ?", Long.parseLong(victim));
                Sql.exec(c, "DELETE FROM fk_parent WHERE id = ?", Long.parseLong(victim));
            }
        } else if (p < 95) {
            Sql.exec(c, "UPDATE fk_child SET parent_id = ?, v = v + 1 WHERE id = (SELECT max(id) FROM fk_child WHERE id % 32 = ?)",
                    1 + rnd.nextInt(SHARED), rnd.nextInt(32));
        } else {
            int shared = 1 + rnd.nextInt(SHARED);
            Sql.exec(c, "DELETE FROM fk_child WHERE parent_id = ?", shared);
            Sql.exec(c, "DELETE FROM fk_parent WHERE id = ?", shared);
            Sql.exec(c, "INSERT INTO fk_parent VALUES (?, ?)", shared, "recreated on node" + w.node());
        }
        return null;
    }

    @Override
    public List<String> verify(Map<String, Connection> nodes) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Connection> n : nodes.entrySet()) {
            long orphans = Sql.number(n.getValue(), "SELECT count(*) FROM fk_child c WHERE NOT EXISTS (SELECT 1 FROM fk_parent p WHERE p.id = c.parent_id)");
            if (orphans > 0) {
                problems.add("fk: " + n.getKey() + " holds " + orphans + " child rows whose parent does not exist");
            }
        }
        return problems;
    }
}
