package io.chorus.coordinator.domain;

import io.chorus.changeset.RelationName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Makes sequences node-safe, as Galera does for auto-increment: every sequence of a replicated database steps by
 * {@link #STEP} and node k (1-based position of its id among the group's members, sorted) only draws values
 * congruent to k modulo the step. Inserts on different nodes therefore never collide on generated ids. Supports up
 * to {@link #STEP} members; sequences are not replicated (each node keeps its own).
 */
final class SequencePolicy {
    static final int STEP = 32;
    private static final Logger LOG = LogManager.getLogger(SequencePolicy.class);

    private SequencePolicy() {
    }

    /** Applies the policy to every sequence outside schema chorus; returns how many it changed. */
    static int apply(Connection c, int slot) throws SQLException {
        if (slot < 1 || slot > STEP) {
            throw new IllegalArgumentException("sequence slot must be 1.." + STEP + ", got " + slot);
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO chorus.meta (key, value) VALUES "
                + "('sequence_slot', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
            ps.setString(1, Integer.toString(slot)); // sequences created later get the same slot (chorus-2.sql)
            ps.execute();
        }
        List<RelationName> seqs = new ArrayList<>();
        List<Long> lasts = new ArrayList<>();
        List<Long> steps = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT schemaname, sequencename, coalesce(last_value, start_value - increment_by), increment_by "
                        + "FROM pg_sequences WHERE schemaname <> 'chorus' ORDER BY 1, 2")) {
            while (rs.next()) {
                seqs.add(RelationName.of(rs.getString(1), rs.getString(2)));
                lasts.add(rs.getLong(3));
                steps.add(rs.getLong(4));
            }
        }
        int changed = 0;
        for (int i = 0; i < seqs.size(); i++) {
            long last = Math.max(0, lasts.get(i));
            if (steps.get(i) == STEP && Math.floorMod(last, STEP) == slot % STEP) {
                continue;
            }
            long next = (last / STEP + 1) * STEP + slot;
            try (Statement st = c.createStatement()) {
                st.execute("ALTER SEQUENCE " + seqs.get(i).quoted() + " INCREMENT BY " + STEP);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT setval(?::regclass, ?, false)")) {
                ps.setString(1, seqs.get(i).quoted());
                ps.setLong(2, next);
                ps.execute();
            }
            LOG.info("sequence {} made node-safe: step {}, next value {}", seqs.get(i), STEP, next);
            changed++;
        }
        return changed;
    }
}
