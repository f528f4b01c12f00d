package io.chorus.changeset.capture;

import java.sql.SQLException;

/** SQLState classification for capture; never message text. */
final class SqlStates {
    static final String UNDEFINED_OBJECT = "42704";
    static final String DUPLICATE_OBJECT = "42710";
    static final String CONFIGURATION_LIMIT_EXCEEDED = "53400";
    static final String OBJECT_NOT_IN_PREREQUISITE_STATE = "55000";
    static final String OBJECT_IN_USE = "55006";
    static final String QUERY_CANCELED = "57014";

    private SqlStates() {
    }

    /**
     * Whether a fresh connection may succeed: connection failures (class 08), the walsender or server shut down or
     * terminated (57P01-57P03), the slot still held by an exiting walsender (55006), too many connections (53300).
     */
    static boolean isRetriable(SQLException e) {
        String state = e.getSQLState();
        if (state == null) {
            return e.getCause() instanceof java.io.IOException;
        }
        return state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03")
                || state.equals(OBJECT_IN_USE) || state.equals("53300");
    }

    static String describe(SQLException e) {
        return e.getMessage() + " (SQLState " + e.getSQLState() + ")";
    }

    /** What to do about a replication-stream error, by SQLState; empty when there is nothing specific to say. */
    static String hint(SQLException e, String slot, String publication) {
        String state = e.getSQLState();
        if (CONFIGURATION_LIMIT_EXCEEDED.equals(state)) {
            return ". Fix: drop unused slots (pg_replication_slots) or raise max_replication_slots / max_wal_senders "
                    + "(ALTER SYSTEM SET ...; then restart PostgreSQL)";
        }
        if (UNDEFINED_OBJECT.equals(state)) {
            return ". Fix: check that slot " + slot + " and publication " + publication
                    + " exist in this database (capture creates them at start unless told not to)";
        }
        if (OBJECT_NOT_IN_PREREQUISITE_STATE.equals(state)) {
            return ". Fix: ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL";
        }
        return "";
    }
}
