package io.chorus.gcs;

/** How the members of a group reach each other. */
public enum Transport {
    /** TCP with a static member list (TCPPING discovery); the production default, also works on loopback. */
    TCP,
    /** Members in one JVM (shared loopback transport); for tests only. */
    IN_JVM
}
