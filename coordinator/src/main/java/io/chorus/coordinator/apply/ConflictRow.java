package io.chorus.coordinator.apply;

/**
 * One row of {@code chorus.conflicts}: a lost row change, identical on every node for the same log.
 *
 * @param gsn          GSN of the changeset that lost the change
 * @param changeIndex  position of the lost change in its changeset (0-based)
 * @param kind         e.g. {@code insert_insert}, {@code update_delete} (winner op, loser op), {@code dependency}
 *                     (same-origin rule R2), {@code uncertifiable}
 * @param loserOrigin  origin node of the lost change
 * @param winnerGsn    GSN of the winning changeset (0 when none, e.g. uncertifiable)
 * @param winnerOrigin origin of the winner ("" when none)
 * @param relation     schema-qualified table
 * @param key          the clashing key, as text ({@code WRITE:public.t/pkey[1]})
 * @param causeGsn     lowest GSN of the winners that made it lose (inherited along R2)
 */
public record ConflictRow(long gsn, int changeIndex, String kind, String loserOrigin, long winnerGsn,
                          String winnerOrigin, String relation, String key, long causeGsn) {
}
