package io.chorus.coordinator.pending;

/** Test access to the late-doom switch of the tracker, for the ablation in the certification simulation. */
public final class LateDoomSwitch {
    private LateDoomSwitch() {
    }

    /** Turns late doom on or off for every tracker in this JVM; tests that turn it off must turn it back on. */
    public static void set(boolean on) {
        LateCommit.enabled = on;
    }
}
