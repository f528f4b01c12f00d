/**
 * Recovery: full state transfer to a joining node, and the pieces of rejoin and whole-cluster restart (DESIGN §7).
 *
 * <p>Design note.
 * <ul>
 *   <li><b>When.</b> A node whose W is inside the retained log catches up from the log (the domain's restart path,
 *   incremental transfer). A node that never applied anything and holds no rows, or whose last transfer was left
 *   incomplete, gets a full transfer first ({@link io.chorus.recovery.Transfer#needed}).</li>
 *   <li><b>Conversation in the log.</b> Request, offer and done are records of the group's log
 *   ({@link io.chorus.recovery.TransferMessage}), so the donor is chosen as a function of the log
 *   ({@link io.chorus.recovery.DonorChoice}: up to date, least loaded) and the offer is ordered with the changesets.</li>
 *   <li><b>A snapshot at a GSN boundary.</b> A donor's database also holds its own local commits that are not yet
 *   ordered; a snapshot holding one of them would give the joiner a row the log brings again later (or one the
 *   certifier rejects). The {@link io.chorus.recovery.Donor} therefore holds its local writers (a statement trigger
 *   that helpers, in replica mode, do not fire), waits until its local commits came back in order and its helpers
 *   committed up to the delivered GSN d with delivery paused, exports the snapshot and lets everything go. Writers
 *   wait only for that moment (logged as "local writers were held N ms").</li>
 *   <li><b>Copy.</b> The joiner reaches the donor's PostgreSQL at the host and port the donor's sidecar is configured
 *   with ({@code postgres.host}/{@code port}: it must be reachable from every member, with the joiner's own
 *   credentials), creates missing tables from the donor's definitions ({@link io.chorus.recovery.SchemaAdaption}),
 *   copies every table in parallel with binary COPY from the imported snapshot in replica mode, sets sequences, copies
 *   the conflict log up to d and sets W = d in one transaction. Its capture starts only afterwards, so copied rows are
 *   never taken for local commits. The domain then starts as after a restart: replay from d minus the window,
 *   CATCHING_UP, ONLINE.</li>
 *   <li><b>Local writes during a transfer.</b> From the moment a node starts receiving until its capture's new slot
 *   exists, {@link io.chorus.recovery.LocalWriteRefusal} refuses local writes through the same hold trigger (a flag
 *   in {@code chorus.meta}, durable across a crash; SQLSTATE 25006): a write then would be emptied by the copy, or
 *   commit before the slot and never reach the group. Tables that schema adaption creates get the trigger in the same
 *   transaction. Writes while catching up are captured and certified as after any restart.</li>
 *   <li><b>The log tail a joiner needs.</b> The transfer's group member holds its own compaction by age, and
 *   the domain takes that membership over instead of joining again, with the records that arrived during the copy
 *   (kept from the member's last snapshot on, at most 256 MB): a member that joined again after installing the
 *   leader's snapshot reloaded a log without the entries after it, got another snapshot, and needed another full
 *   transfer, for ever. A transfer whose member skips records (a snapshot) asks again at once: the offer may have
 *   been among them. Deliveries above W never wait for the join to return: the go-live runs beside it,
 *   so a log tail larger than the hand-off queue (1,000 records) is replayed through it.</li>
 *   <li><b>Saved commits.</b> A node that fell behind the retained log re-decodes its slot and saves the local
 *   commits in {@code chorus.saved_commits} before the slot is dropped; after the transfer the ones the group had
 *   ordered are removed: an origin's records are ordered in its commit-LSN order and deduplicated by it, so every
 *   commit at or below the highest commit LSN the group delivered from this node (its GTID, read from the log's
 *   origin table) was ordered and is in the copied data. What remains was never ordered.</li>
 *   <li><b>Identity.</b> The group identity is stored in {@code chorus.meta} and presented at every join; a
 *   database of another group is refused naming both identities and the fix (disable, request a full transfer,
 *   enable).</li>
 *   <li><b>Whole-cluster restart.</b> Every member keeps its copy of the group's Raft log on disk, and a node's W
 *   never passes what its log delivered. After all nodes stopped, a leader can only be elected with the votes of a
 *   majority and only if its log holds every committed entry, so the group restarts from the most complete log
 *   (the highest W) by itself, whatever the order of the restarts; each node replays from its own W. A node whose
 *   rejoin fails (no majority yet) tries again with a doubling back-off (2 s to 5 min). Every member announces its W
 *   beside the log (a plain group message once a second, so it flows without a primary component); a node outside one
 *   names the voters it waits for and the highest W seen (status and log). A minority restarts the group only by an
 *   explicit forced bootstrap on the member with the highest W ({@code Group.forceBootstrap}, design in the gcs
 *   package note): that member becomes the only voter, its GSNs continue from its log, the voters present are taken
 *   back, the missing ones can return only by a full transfer. Not built yet: the SQL and sidecar surface for it, and
 *   refusing a removed member that returns with its old data.</li>
 * </ul>
 */
package io.chorus.recovery;
