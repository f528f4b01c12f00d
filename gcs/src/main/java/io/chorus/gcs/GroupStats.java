package io.chorus.gcs;

/**
 * Counters of one member's group handle, for status reports and metrics; a consistent-enough snapshot (each field
 * read once, not atomically together).
 *
 * @param appliedGsn the highest GSN this member's log has assigned
 * @param deliveredGsn the highest GSN the listener has returned from
 * @param sendQueueDepth records waiting to be sent
 * @param deliveryQueueDepth events waiting for the listener
 * @param entriesCommitted log entries this member sent that were committed
 * @param recordsCommitted records in those entries
 * @param resubmissions attempts repeated (leader change, attempt deadline, answer without GSNs)
 * @param timeouts appends failed with {@link GcsException.Kind#TIMEOUT}
 * @param deliveryHeldMillis how long this member's log waited, in all, for room in its delivery queue (its listener
 *                           was behind); on the leader every member's appends wait meanwhile
 */
public record GroupStats(long appliedGsn, long deliveredGsn, int sendQueueDepth, int deliveryQueueDepth,
                         long entriesCommitted, long recordsCommitted, long resubmissions, long timeouts,
                         long deliveryHeldMillis) {
}
