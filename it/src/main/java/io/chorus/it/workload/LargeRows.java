package io.chorus.it.workload;

import io.chorus.it.harness.Sql;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Large JSON and TOASTed text: shared documents whose title changes while the TOASTed columns stay untouched (the
 * unchanged-TOAST path), whose body is rewritten, whose jsonb is edited in place; plus each writer's own documents
 * inserted and deleted.
 */
public final class LargeRows implements Workload {
    static final int SHARED = 10;

    @Override
    public String name() {
        return "toast";
    }

    @Override
    public String schema() {
        return "CREATE TABLE toast_docs (id bigint PRIMARY KEY, title text NOT NULL, body text, doc jsonb);\n"
                + "INSERT INTO toast_docs SELECT g, 'doc ' || g, (SELECT string_agg(md5(g || '-' || i), '') FROM generate_series(1, 700) i), "
                + "jsonb_build_object('id', g, 'tags', (SELECT jsonb_agg(md5(i::text)) FROM generate_series(1, 400) i)) "
                + "FROM generate_series(1, " + SHARED + ") g;\n";
    }

    @Override
    public Object transaction(Connection c, Random rnd, Writer w) throws SQLException {
        int doc = 1 + rnd.nextInt(SHARED);
        int p = rnd.nextInt(100);
        String tag = "node" + w.node() + "#" + w.sequence();
        if (p < 40) {
            Sql.exec(c, "UPDATE toast_docs SET title = ? WHERE id = ?", "edited on " + tag, doc);
        } else if (p < 55) {
            Sql.exec(c, "UPDATE toast_docs SET body = repeat(md5(?), 700 + ?) WHERE id = ?", tag, rnd.nextInt(300), doc);
        } else if (p < 70) {
            Sql.exec(c, "UPDATE toast_docs SET doc = jsonb_set(doc, '{edited}', to_jsonb(?::text)) WHERE id = ?", tag, doc);
        } else if (p < 90) {
            Sql.exec(c, "INSERT INTO toast_docs VALUES (?, ?, repeat(md5(?), 800), jsonb_build_object('by', ?::text, "
                    + "'blob', repeat(md5(?), 400)))", 1000 + w.uniqueId(), "new on " + tag, tag, tag, tag);
        } else {
            Sql.exec(c, "DELETE FROM toast_docs WHERE id = (SELECT min(id) FROM toast_docs WHERE id > 1000 AND id % 8 = ?)", w.node());
        }
        return null;
    }

    @Override
    public List<String> verify(Map<String, Connection> nodes) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Connection> n : nodes.entrySet()) {
            long broken = Sql.number(n.getValue(), "SELECT count(*) FROM toast_docs WHERE id <= " + SHARED
                    + " AND (body IS NULL OR length(body) < 20000 OR doc IS NULL)");
            if (broken > 0) {
                problems.add("toast: " + n.getKey() + " has " + broken + " shared documents with a lost or truncated TOASTed value");
            }
        }
        return problems;
    }
}
