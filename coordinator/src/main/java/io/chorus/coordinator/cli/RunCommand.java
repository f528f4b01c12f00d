package io.chorus.coordinator.cli;

import io.chorus.coordinator.config.ConfigLoader;
import io.chorus.coordinator.config.NodeConfig;
import io.chorus.coordinator.sidecar.Sidecar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.logging.log4j.LogManager;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code chorus run}: the sidecar beside one PostgreSQL instance. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "Run the sidecar beside a PostgreSQL instance (serves every database listed in the configuration).")
public final class RunCommand implements Callable<Integer> {
    @Option(names = "--config", required = true, paramLabel = "FILE", description = "node configuration (YAML)")
    Path config;

    @Option(names = "--set", paramLabel = "KEY=VALUE",
            description = "override a configuration key, e.g. --set postgres.port=5433 (secrets: use files or CHORUS_PG_PASSWORD)")
    List<String> overrides = List.of();

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(config)) {
            throw new IllegalArgumentException("configuration file " + config + " does not exist");
        }
        Map<String, String> set = new LinkedHashMap<>();
        for (String o : overrides) {
            int eq = o.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--set takes KEY=VALUE, got '" + o + "'");
            }
            if (o.toLowerCase().contains("password") || o.toLowerCase().contains("secret")) {
                throw new IllegalArgumentException("secrets are not accepted on the command line; use passwordFile/secretFile or the environment");
            }
            set.put(o.substring(0, eq), o.substring(eq + 1));
        }
        NodeConfig cfg = ConfigLoader.load(config, set, System.getenv());
        Sidecar sidecar = new Sidecar(cfg);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            LogManager.getLogger(RunCommand.class).info("JVM shutting down (signal or exit): stopping the sidecar");
            sidecar.close();
        }, "chorus-shutdown"));
        exitWithParent(sidecar);
        sidecar.start();
        sidecar.await();
        return 0;
    }

    /** A sidecar started by a harness ({@code CHORUS_EXIT_WITH_PID}) stops when that process ends, however it ends. */
    private static void exitWithParent(Sidecar sidecar) {
        String pid = System.getenv("CHORUS_EXIT_WITH_PID");
        if (pid == null || pid.isBlank()) {
            return;
        }
        ProcessHandle.of(Long.parseLong(pid.trim())).ifPresentOrElse(
                parent -> parent.onExit().thenRun(() -> {
                    LogManager.getLogger(RunCommand.class).info("process {} that started this sidecar ended: stopping", pid);
                    sidecar.close();
                    Runtime.getRuntime().halt(0);
                }),
                () -> {
                    throw new IllegalStateException("the process " + pid + " that started this sidecar is gone");
                });
    }
}
