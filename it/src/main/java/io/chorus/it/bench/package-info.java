/**
 * {@code chorus bench}: native logical replication against Chorus on the same machine and data. Lag is measured
 * as a reader sees it (a heartbeat row stamped on the writer, first seen on the reader); CPU comes from
 * /proc/&lt;pid&gt;/stat of the servers (postmaster and children) and the sidecars; the apply rate is the drain of a
 * backlog written while apply was paused.
 */
package io.chorus.it.bench;
