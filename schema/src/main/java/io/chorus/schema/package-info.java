/**
 * What Chorus knows of a database's schema: the catalog facts certification needs, the keys of each row change,
 * the replica identity policy applied when replication is enabled, and the schema fingerprint.
 *
 * <p>Design (DESIGN §3 "Keys", model rule R1). {@link io.chorus.schema.Catalog} reads, per table, its identity (the
 * primary key, or the replica identity index with REPLICA IDENTITY USING INDEX), its certifiable unique indexes
 * (valid, non-partial, not on expressions; INCLUDE columns left out), its foreign keys and whether it is referenced.
 * {@link io.chorus.schema.KeyDeriver} turns a row change into keys: the row's own item is always named "pkey" so that
 * a child's REFERENCE key, whose index is "pkey" when its foreign key points at the parent's identity and the unique
 * index's name otherwise, meets the parent's own keys; foreign-key values are put in the parent index's column order.
 * Key values are the text forms pgoutput sends, so every node derives the same keys for the same change.
 * {@link io.chorus.schema.ReplicaIdentityPolicy} refuses tables without a key and turns on REPLICA IDENTITY FULL where
 * old rows are needed. Known gaps: exclusion constraints are not certified, partitioned tables on either side of a foreign key
 * are not matched to their partitions, and foreign keys between columns whose text forms differ
 * for equal values (e.g. numeric of different scales) would not meet.
 *
 * <p>DDL (DESIGN §6). The SQL surface's event triggers (chorus-2.sql, section "ddl") turn each DDL statement of a
 * replicated database into a transactional logical message in its own transaction; {@link io.chorus.schema.DdlMessage}
 * is its decoded form (statement, search_path, role, the relations it touched, whether it is keyed) and
 * {@link io.chorus.schema.DdlRunner} runs it in a helper's apply transaction. Choices: the statement text is the
 * client's query string when it holds one statement, or several that are all DDL (sent once); DDL inside functions, DO
 * blocks and strings mixing DDL with DML is refused (chorus.execute() runs a script statement by statement instead);
 * CREATE/DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY run concurrently at the origin and as the plain form in the
 * helpers' barrier transaction elsewhere; CREATE TABLE AS, unlogged tables, tables left without a primary key and an ADD COLUMN that
 * would fill existing rows differently on each node (a default that is not immutable — random(), now(), nextval() —
 * or an identity column; the fix is to add the column, fill it with an UPDATE, then set the default) are refused; a
 * statement that fails in a helper stops the applier with the statement, the SQLState and the fix
 * ({@link io.chorus.schema.DdlRunner}), never skipped; new tables and sequences get the enable-time policies (REPLICA IDENTITY FULL, node-safe steps) on every node
 * in the DDL's own transaction. Global objects (roles, databases, tablespaces) are not replicated. A remote change
 * ordered before a RENAME or DROP TABLE but not seen by it reaches the statement's origin after the statement ran
 * there: the message names the tables it renamed ({@code renamed}) and dropped ({@code dropped}), and the origin's
 * applier writes such a change under the new name, or drops it with the table, as the other nodes do by applying it
 * before the statement. DDL is refused on a node whose tables a full transfer is replacing.
 *
 * <p>Concurrent DDL (chorus-3.sql, {@code coordinator.domain.DdlOrder}). A DDL transaction is ordered before its first
 * statement runs, as Galera's total order isolation and PGD's global DDL lock do: its start trigger asks for an intent,
 * which the group orders; the statement waits (bounded by {@code chorus.ddl_order_timeout}, refusing with 55P03) until
 * every intent ordered before its own has ended on this node — its DDL changeset applied, or released by its origin
 * once its transaction ended without one. So DDL runs on every node, its origin included, in the group's order:
 * concurrent ADD COLUMNs on one table get the same column order everywhere. DDL is refused on a node that is not
 * ONLINE and in REPEATABLE READ or SERIALIZABLE transactions. An intent is granted once the DDL that ended the one
 * before it is applied here, not this node's whole apply backlog. A CREATE INDEX CONCURRENTLY (several transactions)
 * keeps its intent while its statement runs (pg_stat_activity; a sidecar role without pg_read_all_stats sees only the
 * first transaction). A restarted sidecar replays the log from W minus the window only, so it no longer knows its
 * intents ordered before that and would never release them: once live it appends a sweep
 * ({@code ddl-sweep:<gsn>:<xids>}, through its WAL, so behind any DDL changeset it committed before) that ends on every
 * node its intents ordered up to that GSN, except those of the transactions it lists as still in progress; it sweeps
 * again each time one of those ends. Known gaps: a CREATE INDEX CONCURRENTLY still running across the restart loses
 * its intent once its first transaction ended; a node that restarted does not know other nodes' intents ordered
 * before its replay, so grants its own DDL without waiting for them; a DDL transaction that already wrote to a table
 * a remote DDL ordered before it needs waits for its own timeout.
 *
 * <p>Relation identity and version. A row change names its relation by (schema, table) and carries the definition it
 * was written against — column names, key flags, type oids and modifiers, as pgoutput announced them — which is the
 * relation's version. A version is named group-wide by a content-addressed id (64 bits of SHA-256 over its canonical
 * bytes, {@code changeset.wire.RelationVersion}): the same definition has the same id on every node with no
 * coordination. A log entry carries only the definitions the group's catalog of committed versions lacks and names
 * the others by id alone; the log's state machine adds a committed entry's definitions to the catalog before it
 * delivers the entry, and its snapshot carries the whole catalog, so a restart, a catch-up and a joiner started from a
 * snapshot all resolve every id (the design in the {@code changeset.wire} package note). The applier matches values
 * to the table's current columns by name, so a change decoded before an ADD COLUMN (the column takes its default), a
 * DROP COLUMN ({@link io.chorus.schema.DdlRunner#adapt}) or a type change without USING (the text value is read by the
 * new type) and ordered after it applies as it would have before it; a rename or a type change with USING is keyed,
 * so changes that did not see it lose to it. A change ordered before a rename of this node's (table or column) reaches
 * this node after the rename ran here: the rename's message names the old and the new names, and the applier writes
 * the change under the new ones. Any other column missing is never dropped silently: the apply fails naming it.
 *
 * <p>Schema fingerprint ({@link io.chorus.schema.SchemaFingerprint}): recorded in {@code chorus.meta} at start and after
 * every DDL the capture sees commit ({@code chorus.schema_fingerprint()}, {@code chorus.schema_description()}); a full
 * transfer compares the joiner's description with the donor's inside the donor's snapshot after creating what was
 * missing, and refuses with every difference (table, column, type, key, unique index, foreign key) and the fix.
 * Every other start — restart, rejoin, incremental transfer from the retained log — compares the database with the
 * group's schema at its watermark W ({@link io.chorus.schema.SchemaAtWatermark}): the description read inside the
 * helper transaction that passed the last DDL changeset at or below W (a remote one it ran, or this node's own one
 * delivered back), or after the full transfer that set W, stored in {@code chorus.meta} atomically with the apply
 * progress. DDL is a barrier applied in GSN order on every node, so every node at W has that schema; a difference
 * means someone changed this database outside replication ({@code chorus.replicate_ddl = off}, or while the sidecar
 * was stopped). It is refused once the replay reached W, before anything above W is applied, with every difference in
 * the log and {@code chorus.status()}; the sidecar's restart back-off checks again, so undoing the change is the fix.
 * This node's own DDL that committed after W and is not delivered yet is the one expected difference: that start
 * skips the check (logged). Not caught: a divergence already present when a node first recorded its schema (a
 * database enabled before this record existed records its current schema as W's), and changes made while the
 * sidecar runs are caught at its next start only. A joiner's missing tables are created only by a full transfer. In
 * sync mode an own changeset leaves the slot at its delivery, not its apply ({@code OwnConfirmations}): a crash
 * between the delivery of this node's own DDL and its apply would leave that DDL neither in the slot nor below W, so
 * the delivery first notes its GSN in {@code chorus.meta} ({@link io.chorus.schema.SchemaAtWatermark#noteOwnDdlOrdered}),
 * and a start whose W is below the noted GSN skips the check as for undelivered own DDL. (Releasing own DDL only at
 * its apply would deadlock: the DDL's transaction waits for that release holding its table's lock, and its apply
 * waits for the earlier remote changes to that table.)
 */
package io.chorus.schema;
