/**
 * Post-run checks: after the faults are healed and the cluster quiesced with read barriers, {@link
 * io.chorus.it.check.ClusterCheck} compares every table and the conflict log across nodes, checks each workload's
 * invariants and that no node is stuck, and explains any failure (node states with their last errors, the first
 * differing row).
 */
package io.chorus.it.check;
