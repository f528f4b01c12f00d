/**
 * The pgoutput wire protocol, isolated from everything else: {@link io.chorus.changeset.pgoutput.PgOutputParser} turns
 * the payload of one XLogData message into a {@link io.chorus.changeset.pgoutput.PgOutputMessage}.
 *
 * <p>Design note. Chorus requests {@code proto_version '1'} (PostgreSQL 14+; the parser also reads the protocol 2
 * streaming messages) with text-format values. The grammar of each message is written next to the code that reads it.
 * The parser is strict — whole payload consumed, flags in range, valid UTF-8, lengths checked before allocation — so a
 * corrupted or truncated message raises {@link io.chorus.changeset.pgoutput.PgOutputFormatException} with the message
 * type and byte offset, never a plausible but wrong message. Old-tuple markers, verified against a real server
 * (PgOutputServerIT): 'K' carries the replica-identity columns only (other columns arrive as NULL); 'O' carries the
 * full old row and is sent for REPLICA IDENTITY FULL. Unchanged TOAST ('u') stays a distinct state of
 * {@link io.chorus.changeset.Tuple}, never NULL. The package knows nothing of slots, connections or changesets.
 */
package io.chorus.changeset.pgoutput;
