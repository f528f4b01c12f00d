package io.chorus.coordinator.apply;

import io.chorus.changeset.Gsn;
import io.chorus.changeset.Lsn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Reads the durable apply watermark W: every helper transaction records the highest GSN it commits in its helper's
 * replication origin, atomically with the data, so after any crash W is the maximum progress over the helper origins
 * (DESIGN §2 step 4).
 *
 * <p>Stateless and thread-safe.
 */
public final class ApplyProgress {
    private static final String READ_W = "SELECT max(pg_replication_origin_progress(roname, false))::text "
            + "FROM pg_replication_origin WHERE roname ~ ('^' || ? || '[0-9]+$')";

    private ApplyProgress() {
    }

    /**
     * The highest GSN committed by the helpers whose origins start with {@code originPrefix}, or {@link Gsn#NONE}.
     * Blocking (one query).
     *
     * @param originPrefix the prefix of {@link ApplierConfig#originPrefix()}, e.g. {@code chorus_h}
     */
    public static Gsn readWatermark(Connection connection, String originPrefix) throws SQLException {
        if (!originPrefix.matches("[a-z][a-z0-9_]*")) {
            throw new IllegalArgumentException("invalid helper origin prefix '" + originPrefix + "'");
        }
        try (PreparedStatement ps = connection.prepareStatement(READ_W)) {
            ps.setString(1, originPrefix);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String text = rs.getString(1);
                return text == null ? Gsn.NONE : Gsn.of(Lsn.parse(text).value());
            }
        }
    }
}
