/**
 * Cluster harness for the integration suites and the benchmark: {@link io.chorus.it.harness.ChorusCluster} starts
 * N PostgreSQL servers and N sidecar processes and brings them ONLINE; {@link io.chorus.it.harness.Faults} injects
 * crashes, freezes, slow nodes, server restarts, backend terminations and partitions. Partitions need every sidecar
 * in its own network namespace ({@link io.chorus.it.harness.NetNamespaces}, root only): blackhole routes inside the
 * namespaces cut the group traffic while each sidecar keeps its path to its own PostgreSQL on the host bridge.
 */
package io.chorus.it.harness;
