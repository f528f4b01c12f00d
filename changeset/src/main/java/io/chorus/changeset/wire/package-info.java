/**
 * The Chorus wire format: how changesets travel in the replicated log and sit in spill files.
 *
 * <p>Design. {@link io.chorus.changeset.wire.WireCodec} frames a Kryo body in a fixed header (magic {@code CHRS},
 * format version, frame kind, body length, CRC32C of the body; see {@code Frame}). One frame of kind B holds a batch
 * of changesets (the domain puts one changeset per replicated-log record). One frame of kind C holds a single change,
 * for spill files.
 *
 * <p>Relation versions ("announced once, then ids only"). A relation's definition (name, replica identity,
 * and per column the name, key flag, type oid and modifier) is its version: it travels with the changes decoded
 * against it, so a change ordered across an ALTER TABLE is never read with the wrong columns. A version is named by a
 * content-addressed id ({@link io.chorus.changeset.wire.RelationVersion}: the first 64 bits of SHA-256 over its
 * canonical bytes), so the same version has the same id on every node with no coordination, and a definition read
 * back is checked against its id. A frame's body starts with a section of the definitions it carries; a change names
 * its relation by id the first time in the frame and by a small index after that.
 *
 * <p>Which definitions a frame carries. Encoded against a {@link io.chorus.changeset.wire.RelationCatalog} (the
 * group's catalog of versions committed in its log), a frame carries only the versions the catalog lacks, and the
 * encoder returns them ({@link io.chorus.changeset.wire.WireCodec.Encoded}) for the group to keep: the domain appends
 * them with the record, the log's state machine adds them to its catalog before it delivers the record, and its
 * snapshot carries the whole catalog. Hence an id a frame does not define always names a version committed below
 * the frame, which every receiver holds whatever it started from: a restart's replay of its own log, an incremental
 * catch-up, a joiner that starts from the leader's snapshot after a full transfer. A frame that carried a definition
 * may never commit (a leader change, an append dropped as a duplicate); that does no harm, since no frame names a
 * version by id alone before the catalog holds it, and a frame encoded before then carries it too. The catalog is
 * never pruned (a version is about a hundred bytes and versions come only from DDL): pruning would race a frame
 * encoded before the prune and committed after it. Encoded without a catalog ({@link
 * io.chorus.changeset.wire.RelationCatalog#NONE}), as for spill files and this node's own copies, a frame defines
 * every version it names and decodes on its own. Format version 2; a node refuses a frame of another version.
 *
 * <p>Other values. Relation names in keys and truncations are written in full once per frame and referenced by a
 * small int afterwards ({@code RefTable}). Enum values have fixed byte codes, Kryo classes fixed registration ids
 * (100-103), strings are UTF-8 with a byte length, the commit time is kept to the nanosecond, tuples keep the three
 * column states (NULL, unchanged TOAST, text).
 *
 * <p>Safety. The header is checked field by field and the checksum before the body is decoded, so corrupted or
 * truncated bytes raise {@link io.chorus.changeset.wire.WireFormatException} instead of yielding a wrong changeset.
 * Behind a valid checksum the decoder still checks every count against the bytes left (no allocation from a bad
 * length) and that no byte is left over. A new format version is a new {@code FORMAT_VERSION}; a node refuses a
 * version it does not speak with a message naming both.
 */
package io.chorus.changeset.wire;
