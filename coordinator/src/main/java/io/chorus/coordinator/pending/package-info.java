/**
 * Eager rollback at the loser's origin (DESIGN §3 "At the loser's origin", rule R3).
 *
 * <p>Design note. Only the origin of a lost change holds it, so only the origin undoes it, in the helper transaction
 * of the winner that dooms it. {@link io.chorus.coordinator.pending.PendingTracker} keeps, per row touched by pending
 * local changesets, the chain of pending versions and the base (the group's version: the old tuple of the first
 * pending change, replaced by every winner applied to the row and by each own change that wins at delivery). It never
 * reads a peer's row. Dooming uses the certifier's own rules, so the doomed set equals the certifier's losers; this is
 * asserted at every own delivery.
 *
 * <p>Unchanged TOAST: a pending version's unchanged columns are resolved when the change is added, from the decoded
 * old tuple, else from the row's current version here; a column nobody sent stays "unknown" and is never written as
 * a placeholder. A restore that needs an unknown column takes it from the winner when the winner writes the row
 * (it overwrites the row in the same transaction), is skipped when the winner deletes the row, and otherwise stops
 * the node with an error asking for REPLICA IDENTITY FULL.
 *
 * <p>Late doom: the delivery thread computes a winner's restores when it is delivered, but a local commit that
 * committed before the winner's helper did (deps below the winner: concurrent with it) may reach the tracker only
 * afterwards. Every processed winner is therefore kept until {@code committed} reports its GSN; {@code addLocal}
 * certifies the new changeset against the kept winners above its deps and against this origin's losses (pending, or
 * delivered with an uncommitted cause) with the same rules and dooms its losers. For every winner that dooms one of
 * its changes it records the rollback that winner would have computed had the changeset been known then (dooms
 * caused by then, bases from before it: each kept winner remembers the bases it replaced), unless the winner's own
 * rollbacks already write it. The applier writes late
 * rollbacks in one group at the start of a transaction, so a take merges the range by GSN (highest wins per row)
 * together with the winners' own rollbacks (rows rolled back together can swap unique values), and returns only rows
 * not yet returned for that transaction with the same target. A late rollback never taken before its GSN commits is
 * a bug. Rows first touched by a late changeset start from its old tuple (REPLICA IDENTITY FULL) and take in the kept
 * winners' writes; a row whose last pending version is delivered stays tracked, base only, until that delivery's GSN
 * commits, so a late changeset on it starts from the group's version.
 *
 * <p>Work under the pending lock: the delivery thread and the helpers share it, so no call may scan the backlog. A
 * winner visits only the pending changesets with a live change its keys clash with, then (R2) those with a live change
 * that depends on one it just doomed, in commit order ({@code WinnerDoom}, through the live changes by item and kind
 * in {@code PendingIndex}); a late commit asks for the lowest clashing kept winner and the lowest R2 cause among this
 * origin's losses (doomed pending changes, delivered losses until their cause commits) by key
 * ({@code io.chorus.coordinator.certify.CauseIndex}: GSNs sorted per item and kind), advances only the bases the kept
 * winners that write its new rows replaced ({@code KeptWinners}), and finds the versions a winner had not doomed yet
 * per row ({@code RowState}, doomed versions by cause). The decisions are those of a full scan: a change that loses
 * or depends on a loss has a key that meets the winner's or the loss's. {@code BacklogScenario} counts the visits.
 *
 * <p>Restart: {@link io.chorus.coordinator.pending.PendingTracker#rebuild} re-adds the re-decoded pending changesets
 * (the slot is never confirmed past them) interleaved with the verdicts of the remote winners applied above their
 * deps, re-certified from the log; the restores are not repeated (they committed with their GSN). Every replayed GSN
 * committed before the restart, so the rebuild reports each one {@code committed} as soon as no local changeset still
 * to add has deps below it (a local changeset comes before every winner above its deps, so none is doomed late): the
 * tracker then holds what it holds live, not every winner of the replay. A row whose last pending version is
 * delivered is let go at once, so a later own changeset on it starts from its old tuple (as live when the helpers
 * commit before the capture reports it), not from a base carried through the replay. The verdicts come through
 * {@link io.chorus.coordinator.pending.ReplayedVerdicts}, one at a time (the domain keeps their changesets in a spill
 * file), the own changesets read ahead only up to the next one to add.
 *
 * <p>Restart in sync mode: own changesets released before their apply. Sync mode confirms an own changeset to the
 * slot at its delivery (the waiting commit returns), before the helpers pass its GSN g; a sidecar killed in between
 * restarts at a W below g with the changeset gone from the slot, and the log above W delivers it. The live node held
 * it pending from its commit to g, so every winner between its deps and g was certified against it, and those above W
 * have not committed here: their rollbacks of its rows are still to be written. So the rebuild must hold it before
 * the first delivery above W is handled, exactly as an undelivered changeset, not only once its own delivery comes
 * (too late: a winner in (W, g) that it loses to would find its rows, an insert/insert would stop the node as
 * divergence, and g's doomed set would not match the certifier's losers). Taking it from the log above W would mean
 * reading that log ahead of the rebuild up to an end nobody knows (the last own changeset released before the kill;
 * the log past this member's copy arrives only after the join, and the appends of the re-decoded changesets wait for
 * the rebuild). Instead the domain writes each own changeset delivered above its W to a file and forces it before
 * the release ({@code io.chorus.coordinator.domain.OwnReleases}, sync mode only; dropped once W passes it), which
 * keeps DESIGN §2's rule in its durable form: nothing leaves the slot that a restart cannot get back. The restart
 * adds the copies above W that the capture does not emit again (same GTID: the re-decoded one wins) and that were not
 * replayed, before the re-decoded ones (they committed earlier; all in commit order). A copy is the changeset the
 * group ordered, the one the tracker added live (the capture's changeset as appended: keys, tuples and deps from the
 * WAL); its deps is at most W (the helper commit it saw is before its own, flushed, commit record), so the rebuild
 * adds it before the winners above its deps, the replayed ones doom it without repeating their committed rollbacks,
 * and the ones above W doom it and roll back its rows in their helper transactions, as live; its delivery then finds
 * it oldest pending with the certifier's losers. Async mode releases at apply: the file stays empty there, and a copy
 * left by a sync run is read in either mode. A full transfer deletes the file (the database was replaced).
 */
package io.chorus.coordinator.pending;
