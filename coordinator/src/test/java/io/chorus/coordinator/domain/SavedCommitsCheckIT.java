package io.chorus.coordinator.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.chorus.changeset.Lsn;
import io.chorus.sql.SqlSurface;
import io.chorus.testkit.PgServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * After a full transfer, chorus.saved_commits keeps only the commits the group never ordered: those of the batch
 * saved before the transfer whose commit LSN is above the highest one the group delivered from this node; an earlier
 * batch (another rejoin) is left alone, and the check runs once.
 */
class SavedCommitsCheckIT {

    @Test
    void dropsTheSavedCommitsTheGroupOrderedAndOnlyThoseOfTheUncheckedBatch() throws Exception {
        try (PgServer pg = PgServer.start("saved-commits")) {
            pg.createDatabase("app");
            try (Connection c = pg.connect("app")) {
                SqlSurface.install(c);
                exec(c, "INSERT INTO chorus.saved_commits (commit_lsn, statements, reason) VALUES "
                        + "('0/100', 'old batch', 'earlier rejoin')"); // never ordered, from an earlier rejoin
                exec(c, "INSERT INTO chorus.meta (key, value) SELECT '" + RejoinPreparation.UNCHECKED
                        + "', (max(id) + 1)::text FROM chorus.saved_commits");
                exec(c, "INSERT INTO chorus.saved_commits (commit_lsn, statements, reason) VALUES "
                        + "('0/1A0', 'ordered 1', 'r'), ('0/1B0', 'ordered 2', 'r'), ('0/1C0', 'never ordered', 'r')");

                assertThat(RejoinPreparation.dropOrdered(c, Lsn.parse("0/1B0"))).isEqualTo(2);
                assertThat(column(c, "SELECT statements FROM chorus.saved_commits ORDER BY id"))
                        .containsExactly("old batch", "never ordered");
                assertThat(column(c, "SELECT key FROM chorus.meta WHERE key = '" + RejoinPreparation.UNCHECKED + "'"))
                        .as("the check runs once").isEmpty();
                assertThat(RejoinPreparation.dropOrdered(c, Lsn.parse("0/FFF"))).as("nothing left to check").isZero();
                assertThat(column(c, "SELECT count(*) FROM chorus.saved_commits")).containsExactly("2");
            }
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static List<String> column(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
