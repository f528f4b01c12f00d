package io.chorus.coordinator.certify;

import io.chorus.changeset.Key;

/**
 * Why a change depends on an earlier lost change of its origin (R2): the change's key, the lost change and its key.
 *
 * @param <L> the caller's representation of a lost change
 */
public record Dependency<L extends LostChange>(Key key, L lost, Key lostKey) {
}
