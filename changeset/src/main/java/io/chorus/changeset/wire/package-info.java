/**
 * The Chorus wire format: how changesets travel in the replicated log and sit in spill files.
 *
 * <p>Design. {@link io.chorus.changeset.wire.WireCodec} frames a Kryo body in a fixed header (magic {@code CHRS},
 * format version, frame kind, body length, CRC32C of the body; see {@code Frame}). One frame of kind B holds a batch
 * of changesets: one replicated-log entry. One frame of kind C holds a single change, for spill files.
 *
 * <p>Inside a frame, a relation's full definition (name, replica identity, columns) and each relation name are written
 * the first time they occur and referenced by a small int afterwards ({@code RefTable}); the tables live for one
 * frame only, so every frame decodes on its own, whatever the receiver saw before. Enum values have fixed byte codes,
 * Kryo classes fixed registration ids (100-103), strings are UTF-8 with a byte length, the commit time is kept to the
 * nanosecond, tuples keep the three column states (NULL, unchanged TOAST, text).
 *
 * <p>Why relation ids are per frame, not group-wide (issue 8: "announced once, then ids only"). A relation's definition
 * is its version: it travels with the changes decoded against it, so a change ordered across an ALTER TABLE is never
 * read with the wrong columns. Its cost is one definition per relation per frame, and a frame is a batch of changesets.
 * Ids that outlive a frame must resolve from every point a receiver starts reading: a restart's replay from W minus the
 * window, an incremental catch-up, a joiner after a full transfer whose log starts at its snapshot, a member that
 * installed a Raft snapshot after compaction ({@code gcs.LogStateMachine} keeps only the last GSN and the origin table
 * in it), and the spill files read back later. An origin cannot simply announce once: the frame that announced may
 * never commit (a leader change, an append sent again and dropped as a duplicate), and a later frame would then name
 * an id nobody can resolve. The safe design, not built yet:
 * <ol>
 *   <li>The id is content-addressed: a 64-bit prefix of SHA-256 over the canonical definition (schema, table, replica
 *   identity, and per column name, key flag, type oid and modifier). It needs no coordination, and the same version
 *   has the same id on every node.</li>
 *   <li>The catalog of announced versions is replicated state: the state machine adds a frame's inline definitions
 *   when it applies the entry (in log order, on every member), and writes the catalog into its snapshot
 *   ({@code writeContentTo}/{@code readContentFrom}, a new snapshot version), so whoever applies entry g has every
 *   version committed below g, whatever it started from. To keep {@code gcs} free of the changeset format, the frame
 *   carries its definitions in a section the header delimits, stored by the state machine as opaque id to bytes.</li>
 *   <li>An encoder writes an id alone only when its own state machine already holds it (committed below); otherwise
 *   it writes the definition inline, as now. A reference therefore always points at a lower, committed GSN.</li>
 *   <li>The catalog is never pruned (a version is ~100 bytes and versions come only from DDL): pruning by age would
 *   race an entry encoded before the prune and committed after it. Spill files keep self-contained frames.</li>
 *   <li>A new {@code FORMAT_VERSION}: members of mixed versions refuse each other, as for any format change.</li>
 * </ol>
 * Until then the per-frame table stays: a frame decodes on its own, with no registry to keep, snapshot or transfer.
 *
 * <p>Safety. The header is checked field by field and the checksum before the body is decoded, so corrupted or
 * truncated bytes raise {@link io.chorus.changeset.wire.WireFormatException} instead of yielding a wrong changeset.
 * Behind a valid checksum the decoder still checks every count against the bytes left (no allocation from a bad
 * length) and that no byte is left over. A new format version is a new {@code FORMAT_VERSION}; a node refuses a
 * version it does not speak with a message naming both.
 */
package io.chorus.changeset.wire;
