/**
 * The applier pool: deadlock-free, ordered apply of delivered changesets (DESIGN §2 step 4, §4).
 *
 * <h2>Protocol</h2>
 * <ol>
 *   <li>{@link io.chorus.coordinator.apply.Applier#submit} takes {@link io.chorus.coordinator.apply.ApplyUnit}s in
 *       GSN order into a bounded queue (a full queue blocks the caller: flow control, never a drop).</li>
 *   <li>The dispatcher cuts the queue into batches of up to {@code maxBatch} consecutive units that share one
 *       transaction, and hands them out in GSN order. A batch starts only when no batch in flight meets its keys
 *       (same item, or a TABLE key of the item's relation); batches with restores or logical messages, or without
 *       keys, run alone. While a batch waits because a batch in flight meets it, the units that arrive meanwhile
 *       join it (up to {@code maxBatch}). Since batches start in order, the head of the line (lowest uncommitted GSN)
 *       always holds a helper. Units with nothing to write are folded into the next batch, or flushed alone after
 *       {@code idleFlush}.</li>
 *   <li>A helper writes its batch (rows of one statement shape go as one JDBC batch through a cached prepared
 *       statement), records its last GSN in its row of {@code chorus.apply_progress} and in its replication origin
 *       ({@code pg_replication_origin_xact_setup(GSN as pg_lsn, origin commit time)}), then waits until every lower
 *       GSN has committed, and commits. Data and progress are one commit, so W after a crash is the maximum over the
 *       helper rows ({@link io.chorus.coordinator.apply.ApplyProgress}), and a lost connection is resolved by
 *       reading the helper's own row: committed or not, never both. The row, not the origin, is the truth because
 *       PostgreSQL 16+ also advances an origin when a transaction that set it up aborts (a killed helper did exactly
 *       that in testing); the origin still marks helper commits for the capture, with the GSN as origin LSN.</li>
 *   <li>Statements: a batch's rows are sent grouped by table and statement shape where that cannot change the
 *       outcome ({@link io.chorus.coordinator.apply.RowOrder}); rows of one shape go as one JDBC batch (INSERTs rewritten into multi-row INSERTs by the driver);
 *       UPDATEs and DELETEs of distinct rows go as multi-row statements joined to a typed VALUES list, in chunks of
 *       64/16/4 rows, whose affected-row counts are checked. Rows are found by their key columns, or, for REPLICA
 *       IDENTITY FULL tables, by the primary key. Before its rows, each transaction takes FOR KEY SHARE on the
 *       parents its rows REFERENCE (foreign-key triggers do not run under session_replication_role = replica).</li>
 *   <li>{@link io.chorus.coordinator.apply.ApplyGuard}: restores learned late (a local commit raced the winner) run
 *       first; before each commit, and before a missing or existing row is called divergence, the guard is asked to
 *       let the capture catch up, and the transaction re-runs if that produced restores. The statement that records
 *       progress also reads the WAL insert and flush positions; the guard needs the capture to have passed that
 *       insert position only, so it can answer without writing anything when the capture is already there. From
 *       the second race of a batch on (configurable), its re-run first takes the transfer hold's advisory lock
 *       exclusively with a short lock timeout, so that local write statements wait at their trigger until it commits
 *       (see {@link io.chorus.coordinator.apply.Helper} for why no deadlock outlives that timeout).</li>
 *   <li>The blocker watch polls {@code pg_blocking_pids} of the head while it runs: a later helper that blocks the head
 *       (a hidden conflict through a trigger or an index the keys do not show) is cancelled, rolls back, and re-runs
 *       once it is itself the head. Every re-run waits to be the head, so re-runs cannot livelock.</li>
 *   <li>Retriable errors (class 08, 57P0x, 40001, 40P01, 55P03, 57014, 55006) re-run the batch, on a fresh
 *       connection when the old one is gone. Any other error, a row count of 0 or a unique violation first re-runs
 *       the batch in careful mode: one unit per transaction, one statement at a time, INSERTs under a savepoint.
 *       That commits every unit before the culprit and pins the error to its GSN; an error there stops the applier
 *       (never a skip), and a missing or existing row that is not this node's pending row raises
 *       {@link io.chorus.coordinator.apply.DivergenceException}. A unique violation (23505) in careful mode first
 *       asks the guard: a local commit the capture had not reported yet may hold the value (a concurrent insert or
 *       rename, or a row that reused a value a losing rename released); once reported it is doomed and its rollback
 *       goes first in the re-run. Only a violation that no late rollback explains stops the applier.</li>
 *   <li>Restores (R3) write the group's version over the row in place ({@code INSERT ... ON CONFLICT DO UPDATE} on
 *       its key) after deleting the rows that go away: a local UPDATE waiting for the row's lock then applies to the
 *       restored version. A row deleted and inserted again would look like a concurrent delete to it: in READ
 *       COMMITTED it finds 0 rows and its transaction commits without that change (a bank transfer with one leg).
 *       Restored rows that swap unique values are written again in careful mode, all deleted first, then inserted.</li>
 *   <li>A helper that reconnects compares the durable watermark with what the applier committed: helpers commit
 *       with {@code synchronous_commit = off}, so a crash of PostgreSQL can lose their last commits; the applier then
 *       stops with {@link io.chorus.coordinator.apply.LostCommitsException} and the domain restarts from the durable
 *       watermark instead of going on above GSNs the database no longer holds. A helper that cannot open a connection at
 *       all (57P03, refused: the server shuts down, is down or starts) stops the applier with
 *       {@link io.chorus.coordinator.apply.ServerShutdownException}: the domain lets go of its replication connection,
 *       which a shutdown waits for, and starts again once the server is back. A transaction that passes one of this
 *       node's own changesets commits with a local WAL flush: the capture lets go of the changeset once it is applied,
 *       so a crash must not undo that.</li>
 * </ol>
 *
 * <p>DDL: a unit holding a DDL message runs alone (an exclusive batch is admitted only once every batch before it
 * committed, and blocks every later one); the helper runs the statement in order with the unit's rows and the
 * {@link io.chorus.coordinator.apply.Sequencer}'s schema version moves on at its commit, so every helper drops its
 * cached statements and catalog facts before its next transaction. A change whose relation carries columns the table
 * no longer has (written before a DDL of this node that dropped them) is applied without them.
 *
 * <p>Replication origins are server-wide: two domains on one server must use different
 * {@link io.chorus.coordinator.apply.ApplierConfig#originPrefix() origin prefixes}.
 */
package io.chorus.coordinator.apply;
