package io.chorus.it.bench;

import io.chorus.coordinator.cli.CliExtension;

/** Registers {@code chorus bench} with the launcher (META-INF/services). */
public final class BenchExtension implements CliExtension {
    @Override
    public Object command() {
        return new BenchCommand();
    }
}
