/**
 * Spilling large transactions to disk while they are assembled.
 *
 * <p>Design. {@link io.chorus.changeset.spill.ChangeBuffer} keeps a transaction's changes in memory until their
 * estimated size (text lengths plus a fixed overhead per object) crosses a threshold; then it writes all of them to a
 * temporary file in the spill directory and appends every later change there. The file is a sequence of
 * length-prefixed single-change frames of the wire format ({@code WireCodec.encodeChange}), each with its own CRC32C,
 * so damage on disk is reported, never read back as a different change. The finished list streams from the file one
 * change at a time, so a transaction bigger than the heap can be decoded, certified and applied; the file is deleted
 * when the buffer is closed (the assembler closes it once the changeset has been handed on).
 */
package io.chorus.changeset.spill;
