/**
 * Certification: "first in total order wins" (DESIGN §3), a pure function of the delivered log.
 *
 * <p>Design note. {@link io.chorus.coordinator.certify.Certifier} keeps an index of the keys applied changes put on
 * items (hash map item → entries in GSN order, plus per-relation lists for TABLE keys), purged through the horizon
 * min(last W of every known member), never more than the window below the head. A change of C (origin O, GSN g,
 * deps d) loses when a changeset of another origin in (d, g) applied a clashing key on the same item, or by R2 when an
 * earlier lost change of O (earlier in C, or in an earlier changeset of O) with cause above d clashes with it or
 * WROTE a parent it REFERENCEs. The cause of a loss is the lowest winner GSN, inherited along R2. The clash and R2
 * rules live in {@link io.chorus.coordinator.certify.CertRules}, shared with the loser-origin rollback
 * ({@code io.chorus.coordinator.pending}), so both sides always agree.
 *
 * <p>Choices where the design is silent:
 * <ul>
 *   <li>A TRUNCATE carries a TABLE key per relation and is certified like a row change (kinds {@code truncate_*} and
 *       {@code *_truncate}). A TRUNCATE that loses cannot be rolled back at its origin (the rows are not decoded):
 *       the origin stops and rejoins by full transfer.</li>
 *   <li>Logical messages carry no keys and never lose.</li>
 *   <li>DDL (DESIGN §6): a DDL message ({@link io.chorus.schema.DdlMessage}) is a barrier in total order. It never
 *       loses — it committed at its origin and cannot be rolled back there; when rows of its own transaction
 *       lose, they lose together and the DDL still applies (the one exception to whole-transaction losses). A keyed DDL (rename, DROP TABLE, new
 *       constraint, unique index, USING: a change written against the old definition would not apply after it) puts
 *       a TABLE key on every relation it touched (old and new name of a rename) into the index; ADD/DROP COLUMN, a
 *       type change without USING or a plain index put none (such changes still apply). A change to a keyed relation
 *       that did not
 *       see the DDL (deps below its GSN) and is ordered after it loses (kind {@code ddl_<op>}) on every node, and
 *       its origin rolls it back before applying the DDL, in the same helper transaction: no change written against
 *       the old definition is ever applied against the new one on a node that did not write it. A change ordered
 *       before the DDL but not seen by it wins, and reaches the DDL's origin after the DDL; the applier there drops
 *       the columns the DDL dropped (the other nodes drop them with the DDL). Two concurrent DDL statements on
 *       different objects commute; on the same relation they apply everywhere in total order except at the origin
 *       of the later one, which ran its own first — serialise DDL on one relation (one node, or one session).</li>
 *   <li>Uncertifiable changesets lose every keyed change with cause = their own GSN, so later changesets of the same
 *       origin that depend on them (deps below that GSN) lose too, by R2.</li>
 *   <li>When a change loses both directly and by R2, the conflict is the direct one (kind {@code <winner>_<loser>})
 *       and its cause is the lower of the two.</li>
 *   <li>A changeset's deps never decrease within one origin (WAL order), so R2 forgets a loss once a later changeset
 *       of its origin has deps at or above its cause, or once the cause falls below the low mark.</li>
 *   <li>Restart: {@link io.chorus.coordinator.certify.Certifier#resumingAt} plus
 *       {@link io.chorus.coordinator.certify.Certifier#replayDecided} rebuild the same index from the log and the
 *       recorded conflicts.</li>
 * </ul>
 */
package io.chorus.coordinator.certify;
