package io.chorus.recovery;

import java.sql.Connection;
import java.sql.SQLException;

/** Opens a new connection to one database; the caller owns and closes it. Implementations are thread-safe. */
@FunctionalInterface
public interface Connector {
    /** Blocks while connecting (bounded by the driver's connect timeout). */
    Connection connect(String applicationName) throws SQLException;
}
