package io.chorus.recovery;

import io.chorus.changeset.Change;
import io.chorus.changeset.ChangeSet;
import io.chorus.changeset.Column;
import io.chorus.changeset.RelationName;
import io.chorus.changeset.RowChange;
import io.chorus.changeset.TruncateChange;
import io.chorus.changeset.Tuple;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;

/**
 * Local commits that never reached the group's order, saved as SQL for the operator before a full transfer replaces
 * the database's data (DESIGN §7): one row of {@code chorus.saved_commits} per transaction, its statements as text
 * with quoted literals (a script for a person to review and replay, never run by Chorus). Unchanged TOAST columns are
 * left out of an UPDATE's SET list. Stateless.
 */
public final class SavedCommits {
    private SavedCommits() {
    }

    /** Stores the transactions (in the caller's transaction); returns how many were saved. Blocking. */
    public static int save(Connection c, List<ChangeSet> undelivered, String reason) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chorus.saved_commits (commit_lsn, commit_time, "
                + "statements, reason) VALUES (?, ?, ?, ?)")) {
            for (ChangeSet cs : undelivered) {
                ps.setString(1, cs.gtid().commitLsn().toString());
                ps.setTimestamp(2, cs.commitTime() == null ? null : Timestamp.from(cs.commitTime()));
                ps.setString(3, render(cs));
                ps.setString(4, reason);
                ps.addBatch();
            }
            ps.executeBatch();
        }
        return undelivered.size();
    }

    /** The transaction as a script: BEGIN; one statement per change; COMMIT; */
    public static String render(ChangeSet cs) {
        StringBuilder sb = new StringBuilder("BEGIN;\n");
        for (Change ch : cs.changes()) {
            if (ch instanceof RowChange r) {
                sb.append(row(r)).append(";\n");
            } else if (ch instanceof TruncateChange t) {
                sb.append("TRUNCATE ").append(String.join(", ", t.relations().stream().map(RelationName::quoted).toList()))
                        .append(t.restartIdentity() ? " RESTART IDENTITY" : "").append(t.cascade() ? " CASCADE" : "")
                        .append(";\n");
            }
        }
        return sb.append("COMMIT;\n").toString();
    }

    static String row(RowChange r) {
        List<Column> cols = r.relation().columns();
        String table = r.relation().name().quoted();
        return switch (r.op()) {
            case INSERT -> {
                List<String> names = new ArrayList<>();
                List<String> values = new ArrayList<>();
                for (int i = 0; i < cols.size(); i++) {
                    names.add(RelationName.quoteIdent(cols.get(i).name()));
                    values.add(literal(r.newTuple(), i));
                }
                yield "INSERT INTO " + table + " (" + String.join(", ", names) + ") VALUES (" + String.join(", ", values) + ")";
            }
            case UPDATE -> {
                List<String> sets = new ArrayList<>();
                for (int i = 0; i < cols.size(); i++) {
                    if (!r.newTuple().isUnchanged(i)) {
                        sets.add(RelationName.quoteIdent(cols.get(i).name()) + " = " + literal(r.newTuple(), i));
                    }
                }
                yield "UPDATE " + table + " SET " + String.join(", ", sets) + where(r);
            }
            case DELETE -> "DELETE FROM " + table + where(r);
        };
    }

    private static String where(RowChange r) {
        Tuple id = r.identityTuple();
        List<Column> cols = r.relation().columns();
        boolean keyed = r.relation().hasKeyColumns();
        List<String> terms = new ArrayList<>();
        for (int i = 0; i < cols.size(); i++) {
            if ((keyed && !cols.get(i).key()) || id.isUnchanged(i)) {
                continue;
            }
            String name = RelationName.quoteIdent(cols.get(i).name());
            terms.add(id.isNull(i) ? name + " IS NULL" : name + " = " + literal(id, i));
        }
        return " WHERE " + String.join(" AND ", terms);
    }

    private static String literal(Tuple t, int i) {
        if (t.isNull(i)) {
            return "NULL";
        }
        if (t.isUnchanged(i)) {
            return "DEFAULT";
        }
        return "'" + t.text(i).replace("'", "''") + "'";
    }
}
