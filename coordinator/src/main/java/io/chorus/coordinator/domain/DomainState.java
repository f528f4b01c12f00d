package io.chorus.coordinator.domain;

/** A domain's state (DESIGN §7). */
public enum DomainState {
    OFFLINE, JOINING, RECEIVING, CATCHING_UP, ONLINE, NON_PRIMARY, FAILED
}
