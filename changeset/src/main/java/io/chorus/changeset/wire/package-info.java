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
 * <p>Safety. The header is checked field by field and the checksum before the body is decoded, so corrupted or
 * truncated bytes raise {@link io.chorus.changeset.wire.WireFormatException} instead of yielding a wrong changeset.
 * Behind a valid checksum the decoder still checks every count against the bytes left (no allocation from a bad
 * length) and that no byte is left over. A new format version is a new {@code FORMAT_VERSION}; a node refuses a
 * version it does not speak with a message naming both.
 */
package io.chorus.changeset.wire;
