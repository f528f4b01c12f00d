package io.chorus.coordinator.apply;

import io.chorus.changeset.ChorusException;
import io.chorus.changeset.Gsn;

/**
 * This node's PostgreSQL does not accept connections: it is shutting down, starting up or down. The applier stops,
 * the domain fails and lets go of its replication connection, and the sidecar starts it again: a shutting-down server
 * waits for its logical walsender, the walsender waits until the capture has confirmed everything it sent, and the
 * capture confirms an own changeset only once the applier has passed it, which cannot happen while the server refuses
 * the helpers. Closing the replication connection lets the shutdown finish; the domain starts again from its durable
 * watermark once the server accepts connections (a crash may also have lost asynchronous helper commits: the restart
 * applies them again). Retriable in that sense: a restart of the domain recovers.
 */
public final class ServerShutdownException extends ChorusException {
    private static final long serialVersionUID = 1L;

    /**
     * @param helper    the helper whose connection attempt failed
     * @param detail    the connection error, with its SQLState
     * @param committed the highest GSN the applier committed before
     */
    public ServerShutdownException(String helper, String detail, Gsn committed) {
        super("PostgreSQL does not accept connections (helper " + helper + ": " + detail + "): the applier stopped "
                + "with every GSN up to " + committed + " committed, and the domain stops and lets go of its "
                + "replication connection so that a shutdown of the server can finish; it starts again from its "
                + "durable watermark once the server accepts connections (if the server stays down, start it)",
                null, true);
    }
}
