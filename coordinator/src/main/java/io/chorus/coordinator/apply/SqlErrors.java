package io.chorus.coordinator.apply;

import java.sql.SQLException;

/** Classifies SQL errors by SQLState, never by message text. Stateless. */
final class SqlErrors {
    static final String UNIQUE_VIOLATION = "23505";
    static final String QUERY_CANCELED = "57014";
    static final String OBJECT_IN_USE = "55006";
    static final String UNDEFINED_TABLE = "42P01";
    static final String UNDEFINED_COLUMN = "42703";
    static final String LOCK_NOT_AVAILABLE = "55P03";
    static final String DEADLOCK = "40P01";
    /** The server is shutting down, or not yet accepting connections (start-up, crash recovery). */
    static final String CANNOT_CONNECT_NOW = "57P03";

    private SqlErrors() {
    }

    /**
     * Whether re-running the transaction (on a fresh connection when {@link #breaksConnection}) may succeed:
     * serialization failure, deadlock, lock not available, cancel, a terminated backend, server shutdown or start-up,
     * too many connections, and every connection exception (class 08). A missing SQLState means the driver lost the
     * connection.
     */
    static boolean isRetriable(SQLException e) {
        String state = e.getSQLState();
        if (state == null) {
            return true;
        }
        return state.startsWith("08") || state.startsWith("57P") || state.equals("40001") || state.equals("40P01")
                || state.equals("55P03") || state.equals(QUERY_CANCELED) || state.equals("53300")
                || state.equals(OBJECT_IN_USE);
    }

    /** Whether the connection is unusable after this error and must be replaced. */
    static boolean breaksConnection(SQLException e) {
        String state = e.getSQLState();
        return state == null || state.startsWith("08") || state.startsWith("57P");
    }

    /**
     * Whether a failed attempt to open a connection means that the server does not accept connections now: it is
     * shutting down or starting up (57P03), terminated the new backend (57P0x), or refused or lost it (class 08, or no
     * SQLState: the driver lost the socket). Only for errors of opening a connection: on an open connection the same
     * states mean a terminated backend, which a fresh connection repairs.
     */
    static boolean serverUnavailable(SQLException connectError) {
        return breaksConnection(connectError);
    }

    static String describe(SQLException e) {
        return "SQLState " + e.getSQLState() + ": " + e.getMessage();
    }
}
