package io.chorus.coordinator.apply;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Reads the durable apply watermark W: every helper transaction records the highest GSN it commits, atomically with
 * the data, both in its replication origin (for the capture, which recognises helper commits by their origin) and in
 * its row of {@code chorus.apply_progress} (see {@link ApplySchema} for why the row, not the origin, is the truth).
 * After any crash, W is the maximum over the helper rows (DESIGN §2 step 4).
 *
 * <p>Stateless and thread-safe.
 */
public final class ApplyProgress {
    private static final String READ_W = "SELECT CASE WHEN to_regclass('chorus.apply_progress') IS NULL THEN NULL "
            + "ELSE (SELECT max(gsn) FROM chorus.apply_progress WHERE origin ~ ('^' || ? || '[0-9]+$')) END";

    private static final String READ_ORIGINS = "SELECT max(pg_replication_origin_progress(roname, false))::text "
            + "FROM pg_replication_origin WHERE roname ~ ('^' || ? || '[0-9]+$')";

    private ApplyProgress() {
    }

    /**
     * The maximum progress over the helper replication origins, for diagnostics only: on PostgreSQL 16+ an aborted
     * helper transaction (a killed backend, a failing commit) can leave it above {@link #readWatermark}. Blocking.
     */
    public static Gsn readOriginProgress(Connection connection, String originPrefix) throws SQLException {
        checkPrefix(originPrefix);
        try (PreparedStatement ps = connection.prepareStatement(READ_ORIGINS)) {
            ps.setString(1, originPrefix);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String text = rs.getString(1);
                return text == null ? Gsn.NONE : Gsn.of(Lsn.parse(text).value());
            }
        }
    }

    private static void checkPrefix(String originPrefix) {
        if (!originPrefix.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("invalid helper origin prefix '" + originPrefix + "'");
        }
    }

    /**
     * The highest GSN committed by the helpers whose origins start with {@code originPrefix}, or {@link Gsn#NONE}
     * when none committed (or the applier never ran in this database). Blocking (one query).
     *
     * @param originPrefix the prefix of {@link ApplierConfig#originPrefix()}, e.g. {@code chorus_h}
     */
    public static Gsn readWatermark(Connection connection, String originPrefix) throws SQLException {
        checkPrefix(originPrefix);
        try (PreparedStatement ps = connection.prepareStatement(READ_W)) {
            ps.setString(1, originPrefix);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Gsn.of(rs.getLong(1));
            }
        }
    }
}
