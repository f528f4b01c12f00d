/**
 * Capture: from a database's logical slot to exact changesets.
 *
 * <p>Design note. {@link io.chorus.changeset.capture.SlotCapture} owns one reader thread, which alone uses pgjdbc's
 * replication stream (pgoutput, proto_version 1, publication {@code chorus} FOR ALL TABLES WITH
 * (publish_via_partition_root = true), logical messages on, automatic flush off). It assembles BEGIN..COMMIT into a
 * {@link io.chorus.changeset.ChangeSet}, drops the changes to schema {@code chorus}, and reports transactions whose
 * Origin starts with the helper prefix as helper commits: their origin LSN is the GSN they applied. Non-transactional
 * logical messages are reported at once as control signals; every commit before their LSN has been reported first.
 *
 * <p>deps: the GSN of the last helper commit decoded before a local commit. The stream delivers transactions in
 * commit-LSN order, so this is exactly what the local transaction could have seen (DESIGN §3). Caveat: PostgreSQL 15+
 * sends nothing for a transaction without published changes, so a helper transaction that changes no row and emits no
 * transactional message is invisible here; such a changeset applies no key, so certification is unaffected.
 *
 * <p>Positions. Commit LSN = start of the commit record (the GTID); the server re-sends, after a restart, exactly the
 * transactions whose commit LSN is at or after the confirmed position. The confirmed position is: everything received
 * when all emitted local changesets were delivered back, else the commit LSN of the first undelivered one. "Everything
 * received" is the end of the last commit or the WAL position of a keepalive heard between transactions. It is written
 * with its deps to {@code capture.state} (temp file, fsync, atomic rename, fsync of the folder) before the status
 * update that reports it, so a restart re-decodes from there with the right deps. Missing state with an existing slot
 * is accepted only when no helper origin has recorded progress (deps is then exactly 0).
 *
 * <p>Large transactions. Changes accumulate in a spill {@code ChangeBuffer}; beyond the threshold they stream to a file
 * under {@code workDir/spill} and the changeset carries a {@link io.chorus.changeset.ChangeSet.DiskBacked} list. The
 * file is deleted when the changeset is confirmed (delivered back and the position moved past it) or capture closes.
 *
 * <p>Failures. Retriable ones (connection lost, walsender terminated, slot still held by an exiting walsender) reconnect
 * with capped backoff and re-emit the local changesets from the confirmed position on (same GTID, same deps; consumers
 * drop duplicates by GTID). Others stop capture and are reported through {@code onFailure} and {@code failure()}.
 */
package io.chorus.changeset.capture;
