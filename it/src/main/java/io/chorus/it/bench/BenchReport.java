package io.chorus.it.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Prints the results table and ratios, writes {@code bench.csv}, {@code lag.csv} and {@code lag.png}. Stateless. */
final class BenchReport {
    private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
            new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0x17becf), new Color(0x7f7f7f)};

    private BenchReport() {
    }

    static void print(PrintWriter out, List<BenchResult> results, List<BenchResult.Drain> drains) {
        out.println();
        out.printf(Locale.ROOT, "%-8s %-12s %-7s %5s %9s %9s %9s %10s %10s %9s %9s%n", "system", "mode", "load", "nodes",
                "tx/s", "lag p50", "lag p99", "srv ms/tx", "side ms/tx", "(jit)", "refused");
        for (BenchResult r : results) {
            out.printf(Locale.ROOT, "%-8s %-12s %-7s %5d %9.1f %7.0fms %7.0fms %10.3f %10.3f %9.3f %9d%n", r.system(),
                    r.mode(), r.workload(), r.writingNodes(), r.tps(), r.lagP50Ms(), r.lagP99Ms(), r.serverCpuMsPerTx(),
                    r.sidecarCpuMsPerTx(), r.sidecarJitMsPerTx(), r.refused());
        }
        out.println("side ms/tx: CPU of every sidecar JVM per committed transaction; (jit): the part of it their JIT "
                + "compilers used");
        out.println();
        out.printf(Locale.ROOT, "%-8s %-7s %9s %9s %12s%n", "system", "load", "backlog", "drain s", "apply tx/s");
        for (BenchResult.Drain d : drains) {
            out.printf(Locale.ROOT, "%-8s %-7s %9d %9.2f %12.1f%n", d.system(), d.workload(), d.backlog(), d.seconds(), d.rate());
        }
        out.println();
        for (BenchResult.Drain n : drains) {
            if (!n.system().equals("native")) {
                continue;
            }
            drains.stream().filter(c -> c.system().equals("chorus") && c.workload().equals(n.workload())).findFirst()
                    .ifPresentOrElse(c -> out.printf(Locale.ROOT, "%s chorus/native apply throughput ratio: %.2f%n",
                            n.workload(), c.rate() / n.rate()),
                            () -> out.printf("%s chorus/native apply throughput ratio: n/a (the Chorus drain did not run)%n", n.workload()));
        }
        out.flush();
    }

    static void writeCsv(Path dir, List<BenchResult> results, List<BenchResult.Drain> drains) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("kind,system,mode,workload,writing_nodes,committed,seconds,tps,refused,lag_p50_ms,lag_p99_ms,"
                + "server_cpu_ms_per_tx,sidecar_cpu_ms_per_tx,sidecar_jit_ms_per_tx,backlog,drain_s,apply_tps");
        for (BenchResult r : results) {
            lines.add(String.format(Locale.ROOT, "load,%s,%s,%s,%d,%d,%.2f,%.1f,%d,%.1f,%.1f,%.4f,%.4f,%.4f,,,", r.system(),
                    r.mode(), r.workload(), r.writingNodes(), r.committed(), r.seconds(), r.tps(), r.refused(), r.lagP50Ms(),
                    r.lagP99Ms(), r.serverCpuMsPerTx(), r.sidecarCpuMsPerTx(), r.sidecarJitMsPerTx()));
        }
        for (BenchResult.Drain d : drains) {
            lines.add(String.format(Locale.ROOT, "drain,%s,,%s,,,,,,,,,,,%d,%.3f,%.1f", d.system(), d.workload(), d.backlog(),
                    d.seconds(), d.rate()));
        }
        Files.write(dir.resolve("bench.csv"), lines);
        List<String> lag = new ArrayList<>();
        lag.add("system,mode,workload,at_s,lag_ms");
        for (BenchResult r : results) {
            for (LagProbe.Sample s : r.lag()) {
                lag.add(String.format(Locale.ROOT, "%s,%s,%s,%.3f,%.1f", r.system(), r.mode(), r.workload(), s.atSeconds(), s.lagMs()));
            }
        }
        Files.write(dir.resolve("lag.csv"), lag);
    }

    /** Lag over time, one line per configuration, linear axes scaled to the data. */
    static void drawLag(Path file, List<BenchResult> results) throws IOException {
        int w = 1000;
        int h = 560;
        int left = 70;
        int right = 250;
        int top = 40;
        int bottom = 50;
        double maxT = results.stream().flatMap(r -> r.lag().stream()).mapToDouble(LagProbe.Sample::atSeconds).max().orElse(1);
        double maxLag = Math.max(1, results.stream().flatMap(r -> r.lag().stream()).mapToDouble(LagProbe.Sample::lagMs).max().orElse(1));
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.setColor(Color.BLACK);
        g.drawString("replication lag under full write load (ms) vs time (s)", left, 22);
        int pw = w - left - right;
        int ph = h - top - bottom;
        g.drawRect(left, top, pw, ph);
        for (int i = 0; i <= 4; i++) {
            int y = top + ph - ph * i / 4;
            g.drawString(String.format(Locale.ROOT, "%.0f", maxLag * i / 4), 8, y + 4);
            int x = left + pw * i / 4;
            g.drawString(String.format(Locale.ROOT, "%.1f", maxT * i / 4), x - 8, top + ph + 18);
        }
        g.setStroke(new BasicStroke(1.5f));
        for (int k = 0; k < results.size(); k++) {
            BenchResult r = results.get(k);
            g.setColor(PALETTE[k % PALETTE.length]);
            int px = -1;
            int py = -1;
            for (LagProbe.Sample s : r.lag()) {
                int x = left + (int) (pw * s.atSeconds() / maxT);
                int y = top + ph - (int) (ph * s.lagMs() / maxLag);
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                g.fillOval(x - 2, y - 2, 5, 5);
                px = x;
                py = y;
            }
            g.fillRect(w - right + 15, top + 10 + k * 20, 12, 12);
            g.drawString(r.label(), w - right + 32, top + 21 + k * 20);
        }
        g.dispose();
        ImageIO.write(img, "png", file.toFile());
    }
}
