/**
 * The group communication system: one durable, gap-free total order of records across crashes and partitions.
 *
 * <p><b>Design.</b> JGroups provides transport, membership, failure detection and merges; jgroups-raft provides the
 * replicated log (Raft on JGroups). Ordering is never done on SEQUENCER, which can deliver a message to some members
 * and not others when its coordinator crashes. A record is delivered only once Raft has committed the entry holding
 * it, i.e. stored it on a majority of the voters: that majority is the primary component.
 *
 * <p><b>Records, entries, GSN.</b> Each {@link io.chorus.gcs.Group#append} is one record. A member's
 * {@code Sender} packs queued records into one log entry ({@code EntryCodec}) and keeps one entry in flight, so
 * batches grow with the load. The state machine ({@code LogStateMachine}) unpacks committed entries in order and
 * numbers their records: GSN = position among delivered records, contiguous from 1, identical on every member,
 * continued after restarts because the log (and its snapshots) are replayed at start.
 *
 * <p><b>Exactly once.</b> A request forwarded to a leader that dies is never answered, so every attempt has a
 * deadline and is retried. Retries are exact: the state machine's {@code OriginTable} drops a record whose positive
 * originSeq is not above its origin's last delivered one, and answers a re-sent entry (same incarnation and batch
 * number as the origin's last entry) from a cached response. With one entry in flight per origin, the last entry is
 * the only one that can be re-sent, and a later entry is never sent before an earlier one committed. The price:
 * a member commits at most {@code maxBatchRecords} records per commit round trip (measured on 2 cores, 3 members
 * over TCP loopback, 200-byte records: about 16k records/s with fsync and 32 per entry, 34k with 128, 92k without
 * fsync); raise {@code maxBatchRecords} for more.
 *
 * <p><b>Delivery.</b> The state machine runs on the single Raft thread and only hands records to a bounded queue; a
 * full queue blocks it (flow control, never a drop). One delivery thread calls the {@link io.chorus.gcs.GroupListener}.
 * After a restart, records at or below {@code resumeAfter} are replayed silently. When records a member needs were
 * compacted into a snapshot (retention by size or age; or the leader sent its snapshot to a member that fell
 * behind), the member is told that a full transfer is needed.
 *
 * <p><b>Membership.</b> Primary = a leader is known, it is in this member's view and the view holds a majority of
 * the voters. A minority member's appends wait, bounded by the append timeout, and go through after the merge.
 * Voters are added and removed through the log, one at a time, while the group is healthy: a new voter that is
 * still catching up counts towards the majority, so the other voters must all be up until it has caught up.
 *
 * <p><b>Joining.</b> {@code JoinGuard} (AUTH with reasons) checks group identity, protocol version and, with a
 * shared secret, an HMAC proof of it on every join and merge; a refusal says which check failed and what each side
 * has. With a shared secret the stack also encrypts all group traffic (SYM_ENCRYPT, key derived from the secret).
 *
 * <p><b>Sharp edges of jgroups-raft 1.1.4 handled here:</b> fsync is off by default (we turn it on); the default
 * resend interval of 1 s starves lagging members (we use 20 ms); {@code send_commits_immediately} floods (left off);
 * requests forwarded to a dead leader never complete (attempt deadlines); a snapshot replaces missing entries (full
 * transfer). Stacks: {@code stack-tcp.xml} (TCP + TCPPING static discovery) and {@code stack-in-jvm.xml}.
 */
package io.chorus.gcs;
