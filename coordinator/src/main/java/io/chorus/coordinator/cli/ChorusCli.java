package io.chorus.coordinator.cli;

import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code chorus} command. Subcommands are picocli commands; modules above the coordinator (benchmarks in it/)
 * contribute theirs through {@link CliExtension}.
 */
@Command(name = "chorus", mixinStandardHelpOptions = true, versionProvider = ChorusCli.Version.class,
        description = "Update-everywhere replication for PostgreSQL.",
        subcommands = {RunCommand.class, DemoCommand.class, DecodeCommand.class, ArbitratorCommand.class, CommandLine.HelpCommand.class})
public final class ChorusCli {

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the command line and returns the exit code (0 success, 1 failure, 2 usage error). */
    public static int execute(String... args) {
        CommandLine cli = commandLine();
        return cli.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new ChorusCli());
        for (CliExtension ext : ServiceLoader.load(CliExtension.class)) {
            cli.addSubcommand(ext.command());
        }
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            // the user's message is the error's own text, not a stack trace; the trace goes to the log at DEBUG
            commandLine.getErr().println("chorus " + commandLine.getCommandName() + ": " + describe(ex));
            org.apache.logging.log4j.LogManager.getLogger(ChorusCli.class).debug("command failed", ex);
            return 1;
        });
        return cli;
    }

    static String describe(Throwable ex) {
        String msg = ex.getMessage();
        return msg == null || msg.isBlank() ? ex.getClass().getSimpleName() : msg;
    }

    /** Prints the version from the jar manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = ChorusCli.class.getPackage().getImplementationVersion();
            return new String[] {"chorus " + (v == null ? "(development build)" : v)};
        }
    }
}
