/**
 * One replicated database on this node (a domain): the pipeline of DESIGN §2 wired together.
 *
 * <p>Design note.
 * <ul>
 *   <li><b>Capture → group.</b> The capture thread hands each local commit, with its keys from the catalog
 *   ({@link io.chorus.coordinator.domain.KeyEnricher}), to a lock-free queue for the pending-row tracker and to the
 *   {@link io.chorus.coordinator.domain.Appender}, which keeps many appends in flight so the group can batch them.
 *   After a failed append the group refuses later appends until the appender resends from its first unconfirmed
 *   record, so an origin's changesets are committed in commit order, exactly once (the group drops a record whose
 *   origin sequence — the commit LSN — it already delivered). Flow control: beyond the append queue's memory bound
 *   (32 MB) the capture waits for the group (the slot keeps the WAL) — but only while no helper waits for the capture
 *   (a capture sync). Then records spill to a file under the domain's data folder and go out in order once the group
 *   takes them ({@link io.chorus.coordinator.domain.AppendQueue}). A capture that waited then would close a cycle: the
 *   head helper waits for the capture, a slow group waits for this node's delivery, which waits for the applier,
 *   whose queue waits for the head helper. The spill is a cache: the slot's confirmed position never passes an
 *   undelivered local commit, so after a crash the capture re-reads what was spilled. A full disk stops the domain
 *   with that error; nothing is dropped.</li>
 *   <li><b>Group → delivery.</b> {@link io.chorus.coordinator.domain.Delivery} runs on the group's delivery thread,
 *   in GSN order: certification (a pure function of the log), then either the node's own changeset (the
 *   tracker checks its dooms equal the certifier's losers; the slot may be confirmed past it once applied) or a remote winner
 *   (the tracker dooms the node's pending changes it beats and returns the rows to roll back, R3). One
 *   {@link io.chorus.coordinator.apply.ApplyUnit} per GSN goes to the applier; watermark and barrier records advance
 *   W only.</li>
 *   <li><b>The race with local commits.</b> A local commit can land between the doom computation and the helper's
 *   commit. The applier closes it with {@link io.chorus.coordinator.apply.ApplyGuard}: the helper's statements lock
 *   every item of the winners' keys, then the capture is synchronised
 *   ({@link io.chorus.coordinator.domain.CaptureSync}: at once when the snapshot the helper read after locking shows
 *   that only helper transactions finished since an earlier confirmed sync ({@link io.chorus.coordinator.domain.HelperXids}),
 *   or when the capture already decoded past the WAL insert position read with it, else after a short passive wait
 *   or a shared, flushed non-transactional logical message), and rows of local commits doomed late are rolled back in the same transaction (re-run). A local commit after the sync that meets a winner's item waits for its
 *   lock, so it commits later and is not concurrent with it.</li>
 *   <li><b>Restart.</b> W is read from {@code chorus.apply_progress}. The group log is replayed from
 *   {@code W - window}: changesets are certified again (or, when their deps fall before the replay, re-entered with
 *   the decisions recorded in {@code chorus.conflicts}) but not applied. The verdicts the tracker's rebuild needs
 *   wait in a spill file under the domain's data folder, the changesets as the log records they came in
 *   ({@link io.chorus.coordinator.domain.ReplaySpill}), so the replay of a long log holds none of them in memory; the
 *   file is deleted once live. The capture re-emits the unconfirmed local
 *   commits; once the replay reached W and the capture caught up, the tracker is rebuilt from both and deliveries
 *   above W go on. The group join runs meanwhile on its own thread ({@link io.chorus.coordinator.domain.BackgroundJoin}):
 *   a join applies the member's own copy of the log before it returns, and a domain that restarts far behind it holds
 *   more records above W than the group's hand-off queue takes. So that every own changeset above W is among the re-emitted ones, the capture lets go of an own
 *   changeset only once W passed it (async mode; in sync mode the confirmation releases the waiting commit, so it
 *   stays at delivery: {@link io.chorus.coordinator.domain.OwnConfirmations}). The commits captured before the join
 *   and after it are appended strictly in capture order: a later one appended first would make the group drop the
 *   earlier ones as duplicates. The read barriers and DDL intents the capture decodes meanwhile (a
 *   {@code chorus.sync_wait()} during the catch-up, or one written before the restart and decoded again) are held in
 *   the same order until the appender exists ({@link io.chorus.coordinator.domain.OrderedAppends}).</li>
 *   <li><b>DDL.</b> A changeset holding a DDL message ({@link io.chorus.schema.DdlMessage}) is certified like any
 *   other (the DDL never loses; see {@code io.chorus.coordinator.certify}) and applied as a barrier: its unit runs
 *   alone, after every lower GSN committed and before any higher one starts, and the helper runs the statement in GSN
 *   order with the rest of the changeset. Caches follow the schema: the helpers drop their statement and catalog
 *   caches when a DDL commits (their own, or a local session's one the capture reports); the key enricher reads a
 *   table again when pgoutput announces a new shape, after a DDL message in a local changeset, and when the capture
 *   decodes the helper commit of a remote DDL ({@link io.chorus.coordinator.domain.SchemaChanges}), keeping the last
 *   definition of a table renamed or dropped before its earlier commits were decoded. The control connection runs
 *   with {@code chorus.replicate_ddl = off}: the enable-time policies are this node's own. DDL is ordered before
 *   it runs ({@link io.chorus.coordinator.domain.DdlOrder}): intents are read barriers every node records; this node
 *   answers its own once every earlier intent ended here, so DDL runs in the group's order on every node, its origin
 *   included.</li>
 *   <li><b>Watermarks.</b> A node reports its W only while it has no local changeset in flight, so the purge horizon
 *   never passes the deps of a changeset still to be certified.</li>
 * </ul>
 */
package io.chorus.coordinator.domain;
