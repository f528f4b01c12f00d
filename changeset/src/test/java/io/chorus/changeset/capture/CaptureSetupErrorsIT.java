package io.chorus.changeset.capture;

import static io.chorus.changeset.capture.CaptureTestSupport.config;
import static io.chorus.changeset.capture.CaptureTestSupport.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.chorus.changeset.capture.CaptureConfig.SlotMode;
import io.chorus.testkit.PgServer;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** Servers that cannot be captured are refused with the setting and the fix. */
class CaptureSetupErrorsIT {

    @Test
    void walLevelReplicaNamesTheSettingAndTheFix() throws SQLException {
        try (PgServer pg = PgServer.builder().name("replica").setting("wal_level", "replica").start()) {
            pg.createDatabase("app");
            SlotCapture cap = new SlotCapture(config(pg, "app"), new RecordingListener());
            assertThatThrownBy(cap::start).isInstanceOf(CaptureException.class)
                    .hasMessageContaining("wal_level is 'replica'")
                    .hasMessageContaining("ALTER SYSTEM SET wal_level = logical")
                    .hasMessageContaining("restart");
        }
    }

    @Test
    void exhaustedSlotsNameMaxReplicationSlotsAndMissingSlotNamesCreateSlot() throws SQLException {
        try (PgServer pg = PgServer.builder().name("oneslot").setting("max_replication_slots", "1").start()) {
            pg.createDatabase("app");
            exec(pg, "app", "SELECT pg_create_logical_replication_slot('other', 'pgoutput')");
            SlotCapture cap = new SlotCapture(config(pg, "app"), new RecordingListener());
            assertThatThrownBy(cap::start).isInstanceOf(CaptureException.class)
                    .hasMessageContaining("all replication slots are in use")
                    .hasMessageContaining("max_replication_slots");
            assertThat(((CaptureException) catchStart(cap)).isRetriable()).isFalse();

            SlotCapture existing = new SlotCapture(config(pg, "app").withSlot("absent", SlotMode.EXISTING), new RecordingListener());
            assertThatThrownBy(existing::start).isInstanceOf(CaptureException.class)
                    .hasMessageContaining("replication slot absent does not exist in database 'app'")
                    .hasMessageContaining("--create-slot");
        }
    }

    private static Throwable catchStart(SlotCapture cap) {
        try {
            cap.start();
            return null;
        } catch (RuntimeException e) {
            return e;
        }
    }
}
