package io.chorus.it.bench;

import io.chorus.testkit.PgServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * CPU time from {@code /proc/<pid>/stat} (utime + stime, in clock ticks of 10 ms). A PostgreSQL server counts as its
 * postmaster (including the children it already reaped, cutime + cstime) plus every live child. Linux only; a
 * missing process counts as zero. The JIT compiler threads of a JVM can be counted apart ({@link #compilerMs}).
 * Stateless.
 */
final class CpuMeter {
    private static final double MS_PER_TICK = 10.0;

    private CpuMeter() {
    }

    /** CPU milliseconds used so far by the sidecar processes {@code pids}. */
    static double processesMs(List<Long> pids) {
        return pids.stream().mapToLong(p -> ticks(p, false)).sum() * MS_PER_TICK;
    }

    /**
     * CPU milliseconds used so far by the JIT compiler threads ("C1 CompilerThread", "C2 CompilerThread") of the JVMs
     * {@code pids}: part of {@link #processesMs}, reported apart because a freshly started sidecar compiles for a while
     * and a long-running one does not.
     */
    static double compilerMs(List<Long> pids) {
        long total = 0;
        for (long pid : pids) {
            try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
                total += tasks.filter(CpuMeter::isCompilerThread).mapToLong(t -> ticks(t.resolve("stat"), false)).sum();
            } catch (IOException | RuntimeException e) {
                // the process ended: it counts as zero, as in processesMs
            }
        }
        return total * MS_PER_TICK;
    }

    private static boolean isCompilerThread(Path task) {
        try {
            String name = Files.readString(task.resolve("comm"));
            return name.startsWith("C1 Compiler") || name.startsWith("C2 Compiler");
        } catch (IOException e) {
            return false;
        }
    }

    /** CPU milliseconds used so far by each server's postmaster and its children, summed. */
    static double serversMs(List<PgServer> servers) {
        long total = 0;
        for (PgServer s : servers) {
            long postmaster = postmasterPid(s);
            total += ticks(postmaster, true);
            try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
                total += procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
                        .mapToLong(p -> Long.parseLong(p.getFileName().toString()))
                        .filter(pid -> parent(pid) == postmaster)
                        .map(pid -> ticks(pid, false)).sum();
            } catch (IOException e) {
                return Double.NaN;
            }
        }
        return total * MS_PER_TICK;
    }

    private static long postmasterPid(PgServer s) {
        try {
            return Long.parseLong(Files.readAllLines(s.dataDir().resolve("postmaster.pid")).get(0).trim());
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Fields after the command name ("pid (comm) state ppid ..."): index 0 is the state. */
    private static String[] fields(long pid) {
        return fields(Path.of("/proc", Long.toString(pid), "stat"));
    }

    private static String[] fields(Path statFile) {
        try {
            String stat = Files.readString(statFile);
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static long parent(long pid) {
        String[] f = fields(pid);
        return f == null ? -2 : Long.parseLong(f[1]);
    }

    private static long ticks(long pid, boolean withReapedChildren) {
        return ticks(Path.of("/proc", Long.toString(pid), "stat"), withReapedChildren);
    }

    private static long ticks(Path statFile, boolean withReapedChildren) {
        String[] f = fields(statFile);
        if (f == null) {
            return 0;
        }
        // utime, stime, cutime, cstime are fields 14-17 of stat: 11-14 after the state
        long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        return withReapedChildren ? t + Long.parseLong(f[13]) + Long.parseLong(f[14]) : t;
    }
}
