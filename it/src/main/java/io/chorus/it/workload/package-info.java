/**
 * Seeded, bounded workloads for the cluster suites: bank transfers (sum invariant), unique inserts (every
 * acknowledged id tracked, so lost and unexpected rows are counted), hot-set updates, large JSON/TOAST rows and
 * parent/child churn. Each workload owns its tables, so several share one cluster; {@link
 * io.chorus.it.workload.WorkloadRunner} drives them from writer threads on every node.
 */
package io.chorus.it.workload;
