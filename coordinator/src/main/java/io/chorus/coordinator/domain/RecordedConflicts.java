package io.chorus.coordinator.domain;

import io.chorus.changeset.Gsn;
import io.chorus.coordinator.apply.ConflictRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The decisions this node recorded before a restart (chorus.conflicts), for replaying the log identically. */
final class RecordedConflicts {
    private RecordedConflicts() {
    }

    /**
     * How many conflict rows this node recorded up to {@code upTo} (its W at a restart): {@code chorus.status()}
     * counts on from there, so the figure matches the table on every node whether or not its sidecar restarted.
     */
    static long count(Connection c, Gsn upTo) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM chorus.conflicts WHERE gsn <= ?")) {
            ps.setLong(1, upTo.value());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Conflict rows with {@code from < gsn <= upTo}, by GSN. */
    static Map<Long, List<ConflictRow>> load(Connection c, Gsn from, Gsn upTo) throws SQLException {
        Map<Long, List<ConflictRow>> out = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT gsn, change_index, kind, loser_origin, coalesce(winner_gsn, 0), "
                + "coalesce(winner_origin, ''), coalesce(relation, ''), coalesce(key, ''), coalesce(cause_gsn, 0) "
                + "FROM chorus.conflicts WHERE gsn > ? AND gsn <= ? ORDER BY gsn, change_index")) {
            ps.setLong(1, from.value());
            ps.setLong(2, upTo.value());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(new ConflictRow(rs.getLong(1), rs.getInt(2),
                            rs.getString(3), rs.getString(4), rs.getLong(5), rs.getString(6), rs.getString(7), rs.getString(8),
                            rs.getLong(9)));
                }
            }
        }
        return out;
    }
}
