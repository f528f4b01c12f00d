/**
 * The sidecar process and its side of the SQL control surface.
 *
 * <p>Design note. SQL functions cannot wait for an outside process to see their uncommitted rows, so the surface
 * uses three channels:
 * <ul>
 *   <li>requests ({@code chorus.enable()}, {@code disable()}, {@code force_bootstrap(confirm => true)}) are rows of
 *   {@code chorus.requests}, announced with {@code NOTIFY chorus_control}; the sidecar acts after the caller's commit
 *   and reports the phase and any error in the request row and {@code chorus.node_state};</li>
 *   <li>the sidecar publishes the node's state every second, with what a forced bootstrap from here would do
 *   ({@code chorus.node_state.bootstrap}, read by {@code chorus.bootstrap_plan()} and an unconfirmed
 *   {@code chorus.force_bootstrap()}: {@link io.chorus.coordinator.sidecar.ForcedBootstrapControl}); the heartbeat
 *   lets every function tell "no sidecar" within seconds;</li>
 *   <li>read barriers ({@code chorus.sync_wait()}) travel as a non-transactional logical message, decoded at once by
 *   the domain's capture, ordered through the group, and answered in {@code chorus.barriers} once applied — all
 *   while the calling transaction is still open.</li>
 * </ul>
 * A database whose {@code chorus.meta} says it is enabled is rejoined when the sidecar starts.
 *
 * <p>For tests only, {@code testing.faultControl} adds a fourth channel, {@link io.chorus.coordinator.sidecar.FaultControl}:
 * a control file through which a harness cuts this node's group links (the gcs fault hook, process-wide) and an
 * acknowledgement file that says when the cut is in place. A file, not a socket: nothing listens on the network, a
 * restarted sidecar finds the current cut at start, and a harness needs no port. Off by default; logged at WARN.
 */
package io.chorus.coordinator.sidecar;
