package io.chorus.coordinator.cli;

/**
 * A subcommand contributed by a module that sits above the coordinator, found with {@link java.util.ServiceLoader}.
 * Register the implementation in {@code META-INF/services/io.chorus.coordinator.cli.CliExtension}.
 */
public interface CliExtension {
    /** A picocli command object (annotated with {@code @Command}). */
    Object command();
}
