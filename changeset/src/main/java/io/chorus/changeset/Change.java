package io.chorus.changeset;

/** One entry of a changeset, in the order the origin committed them. */
public sealed interface Change permits RowChange, TruncateChange, MessageChange {
}
