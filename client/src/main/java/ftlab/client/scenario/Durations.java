package ftlab.client.scenario;

import java.time.Duration;
import java.util.Locale;

/** Durations in a scenario's words: "500 ms", "1.5 s", "2 min"; "p99" for 99; "5%", "2.5%". */
final class Durations {
  private Durations() {}

  static String words(Duration d) {
    long ms = d.toMillis();
    if (ms < 1_000) {
      return ms + " ms";
    }
    if (ms < 120_000) {
      return ms % 1_000 == 0 ? ms / 1_000 + " s" : String.format(Locale.ROOT, "%.1f s", ms / 1e3);
    }
    return ms % 60_000 == 0
        ? ms / 60_000 + " min"
        : String.format(Locale.ROOT, "%.1f min", ms / 60e3);
  }

  static String percentileName(double p) {
    if (p >= 100) {
      return "max latency";
    }
    return p == Math.rint(p) ? "p" + (long) p : "p" + p;
  }

  static String percent(double p) {
    return p == Math.rint(p) ? (long) p + "%" : String.format(Locale.ROOT, "%.1f%%", p);
  }
}
