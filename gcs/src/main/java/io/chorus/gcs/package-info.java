/**
 * The group communication system: one durable, gap-free total order of records across crashes and partitions.
 *
 * <p><b>Design.</b> JGroups provides transport, membership, failure detection and merges; jgroups-raft provides the
 * replicated log (Raft on JGroups). Ordering is never done on SEQUENCER, which can deliver a message to some members
 * and not others when its coordinator crashes. A record is delivered only once Raft has committed the entry holding
 * it, i.e. stored it on a majority of the voters: that majority is the primary component.
 *
 * <p><b>Records, entries, GSN.</b> Each {@link io.chorus.gcs.Group#append} is one record. A member's
 * {@code Sender} packs queued records into log entries ({@code EntryCodec}) and keeps up to 8 entries in flight, so
 * batches grow with the load. The state machine ({@code LogStateMachine}) unpacks committed entries in order and
 * numbers their records: GSN = position among delivered records, contiguous from 1, identical on every member,
 * continued after restarts because the log (and its snapshots) are replayed at start.
 *
 * <p><b>Order and exactly once.</b> A request forwarded to a leader that dies is never answered, so every attempt
 * has a deadline and is retried. Entries carry (origin, incarnation, number); the state machine's {@code OriginTable}
 * applies an origin's entries only in number order (an entry whose predecessor was lost with a leader is rejected and
 * sent again after it), answers a re-sent entry that was applied from its cache of recent answers, and drops a record
 * whose positive originSeq is not above its origin's last delivered one. So a member's records are committed in the
 * order of its appends, each once, with several entries in flight. Logs written by the older one-entry-in-flight
 * format (entry version 1) replay with their original rule.
 *
 * <p><b>Delivery and memory.</b> The state machine runs on the single Raft thread and only hands records to a queue
 * bounded in events and bytes; a full queue blocks that thread (back-pressure, never a drop). The member's log then
 * falls behind, messages that do not fit in RAFT's bounded processing queue are dropped rather than blocking the
 * stack ({@code CatchUpRaft}), and the leader catches the member up once its consumer caught up; the rest of the
 * group goes on. On the leader the same thread also orders everyone's appends: a consumer that stops consuming there
 * stops the whole group's commits until it consumes again (bounded memory, no drop, but not isolated). One delivery thread calls the {@link io.chorus.gcs.GroupListener}. After a restart, records at or
 * below {@code resumeAfter} are replayed silently. When records a member needs were compacted into a snapshot
 * (retention by size or age; or the leader sent its snapshot to a member that fell behind), the member is told that
 * a full transfer is needed. Compaction by age compacts a member's whole log (jgroups-raft snapshots at the last
 * applied entry); a member that joins only for a full transfer holds it ({@link io.chorus.gcs.Group#holdCompaction}).
 *
 * <p><b>Watermark exchange.</b> Beside the log, every member multicasts its domain's W once a second as a plain group
 * message ({@code Announcements}); it flows without a leader, so after a whole-cluster stop the members present
 * compare their W before a primary component exists. The log alone decides the order; the exchange only informs.
 *
 * <p><b>Catch-up and frozen members.</b> jgroups-raft 1.1.4 resends missing entries only while the leader is idle,
 * all in one message; {@code CatchUpRaft} also catches up a lagging, restarted, frozen or newly added member while the
 * leader is busy, in bounded chunks, one in flight per member. The TCP stack sends without blocking (a frozen peer's
 * full socket must not stop traffic to everyone) and has no credit-based flow control (a member that returns no
 * credits would block every sender); a frozen member is excluded by the failure detector and merged back after.
 *
 * <p><b>Membership.</b> Primary = a leader is known, it is in this member's view and the view holds a majority of
 * the voters. A minority member's appends wait, bounded by the append timeout, and go through after the merge.
 * Voters are added and removed through the log, one at a time, while the group is healthy: a new voter that is
 * still catching up counts towards the majority, so the other voters must all be up until it has caught up (with
 * {@code CatchUpRaft} that takes well under a second for a few thousand entries, under load).
 *
 * <p><b>Forced bootstrap.</b> When a majority of the voters is lost for good (2 of 3 machines destroyed), the
 * survivors never form a primary component by themselves. {@link io.chorus.gcs.Group#forceBootstrap} restarts the
 * group from one member, explicitly, never automatically. {@link io.chorus.gcs.BootstrapPlan} first compares this
 * member's position (W and log GSN) with what every member seen since it joined announced (the watermark exchange):
 * it is refused while a primary component exists, while a present member is ahead (the message names it and its
 * numbers: run it there, the group restarts from the highest position available), and unless confirmed (the message
 * names the missing voters, the members seen ahead and the GSNs beyond this log that would be lost, and those never
 * seen). Each decision is logged at WARN. jgroups-raft changes voters only through the log, which needs the majority
 * that is gone, so the shrink is done offline ({@code ForcedBootstrap}): the member's channel is closed, its file log
 * gets, in a new term, one committed {@code removeServer} entry per other member, and its commit index is moved to
 * its last entry. At start jgroups-raft replays committed entries, configuration included, so the member comes up as
 * the only voter with a majority of one; records its log held beyond the last commit it had heard of are committed
 * too and delivered with the GSNs that follow (whatever the lost majority did with those entries is gone with it).
 * The rewrite touches no entry already there and is durable before the member starts; a crash before the commit
 * index is written leaves the old configuration. jgroups-raft elects only from the view's coordinator, which counts
 * its own (possibly old) voters: {@code CatchUpRaft} lets a sole voter that knows no leader lead by itself. The other
 * voters present are then added back through the log, one at a time: their logs are prefixes of this one's committed
 * history (none was ahead), and the leader repairs any uncommitted tail. The missing voters are removed: their logs
 * and databases may hold GSNs of the lost history, so they must come back by a full transfer with an empty group data
 * directory.
 *
 * <p><b>Histories.</b> The rewrite also appends a history entry ({@code EntryCodec}: new id, the forced member, the
 * new term, the last GSN it knew committed = the agreed GSN). The state machine applies it like any entry: the fork
 * GSN is the last GSN numbered there (the forced log, uncommitted tail included), and the {@link io.chorus.gcs.History}
 * line (one fork per forced bootstrap) is part of every snapshot, so every member that receives the log or a snapshot
 * holds it. The join token carries the member's line and last applied GSN; {@code JoinGuard} compares them with its
 * own at every join and merge ({@link io.chorus.gcs.History#refusal}). Same history: accepted. One side in an older
 * history of the other's line: accepted only if it applied nothing past the agreed GSN of the forks since, because
 * up to there both histories hold Raft's committed prefix of the old one; its uncommitted tail was never delivered,
 * and the leader's log repairs it. Past that GSN its log and database may hold GSNs the new history does not have, or
 * other records under the same numbers (the forced member's uncommitted tail was committed in the new history; the
 * lost majority may have committed something else there): refused, naming the member, both histories, the fork and
 * the fix. Lines that diverged (forced bootstraps on both sides of a split) are refused both ways. The check is only
 * as good as the answering member's copy: a member that still lags in the old history at or below the agreed GSN
 * cannot tell a stale member of that history from a current one, so the forced member's added-back voters should
 * catch up before the removed ones are started again. When the joiner is the one past the fork, the rejection carries
 * a reason code ({@code RefusalHeader}) and the join fails with {@link io.chorus.gcs.GcsException.Kind#PAST_FORK}:
 * the caller may act on it (the sidecar copies the group's data); a stale answering member or diverged lines stay
 * {@code REFUSED}. A member whose data beside the log holds more (a database with a stored line and applied GSN,
 * passed to {@code Group.join}) presents the newer of the two ({@code History.present}), so emptying its group data
 * directory does not hide old data; {@code GroupListener.onHistory} tells the caller of each new line in log order,
 * before any record numbered after the fork, for it to store. With {@code readmitsMembers} the leader adds back
 * configured members that connect but are no voters ({@code Readmission}): a removed member that came back with an
 * accepted history. The token's history fields exist from protocol version 3 on.
 *
 * <p><b>Joining.</b> {@code JoinGuard} (AUTH with reasons) checks group identity, protocol version and, with a
 * shared secret, an HMAC proof of it on every join and merge; a refusal says which check failed and what each side
 * has. With a shared secret the stack also encrypts all group traffic (SYM_ENCRYPT, key derived from the secret).
 *
 * <p><b>Fault injection (tests).</b> The stacks hold {@code FaultDiscard}, JGroups' DISCARD that also drops by member
 * name: {@link io.chorus.gcs.FaultHook} cuts one group's member off from others (in-JVM tests), or every group of a
 * member in this JVM, present and future ({@code cutInProcess}, driven by a sidecar's test fault control). Both sides
 * cut each other for a symmetric partition; failure detection then splits the view and only the majority keeps a
 * leader. Inactive unless used.
 *
 * <p><b>Sharp edges of jgroups-raft 1.1.4 handled here:</b> fsync is off by default (we turn it on); resends only
 * when idle (CatchUpRaft; resend interval 20 ms instead of 1 s); {@code send_commits_immediately} floods (left off);
 * requests forwarded to a dead leader never complete (attempt deadlines); a snapshot replaces missing entries (full
 * transfer). Stacks: {@code stack-tcp.xml} (TCP + TCPPING static discovery) and {@code stack-in-jvm.xml}.
 */
package io.chorus.gcs;
