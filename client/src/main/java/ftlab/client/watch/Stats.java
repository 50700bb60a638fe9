package ftlab.client.watch;

import ftlab.proto.HowAnswered;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Counts outcomes and records latencies, both for the whole run and per reporting interval.
 * Thread-safe: outcomes arrive from every load thread.
 */
final class Stats {
  private static final int MAX_ERRORS = 10;

  private final long startNanos = System.nanoTime();
  private final Recorder intervalLatency = new Recorder(3);
  private final Histogram totalLatency = new Histogram(3);
  private final Counts total = new Counts();
  private Counts interval = new Counts();
  private long intervalStartNanos = startNanos;
  private final List<String> errors = new ArrayList<>();

  /** Plain counters, guarded by the Stats lock. */
  private static final class Counts {
    long sent;
    long ok;
    long failed;
    long wrong;
    long retried;
    long attempts;
    long coordinatorFailovers;
    final Map<String, Long> byNode = new TreeMap<>();

    void add(Outcome o) {
      sent++;
      if (o.failed()) {
        failed++;
        return;
      }
      if (o.wrong()) {
        wrong++;
      } else {
        ok++;
      }
      if (o.answer().getHow() == HowAnswered.HOW_RETRY) {
        retried++;
      }
      attempts += o.answer().getAttemptsCount();
      if (!o.coordinatorFailures().isEmpty()) {
        coordinatorFailovers++;
      }
      byNode.merge(o.answer().getNodeId(), 1L, Long::sum);
    }
  }

  void record(Outcome o) {
    if (!o.failed()) {
      intervalLatency.recordValue(Math.max(1, TimeUnit.NANOSECONDS.toMicros(o.latencyNanos())));
    }
    synchronized (this) {
      total.add(o);
      interval.add(o);
      if (o.failed() && errors.size() < MAX_ERRORS && !errors.contains(o.error())) {
        errors.add(o.error());
      }
    }
  }

  /** The counts since the last call (latencies and node shares of the interval only). */
  synchronized Summary takeInterval() {
    Histogram h = intervalLatency.getIntervalHistogram();
    totalLatency.add(h);
    Counts c = interval;
    interval = new Counts();
    long now = System.nanoTime();
    double seconds = (now - intervalStartNanos) / 1e9;
    intervalStartNanos = now;
    return summary(c, h, seconds);
  }

  /** The counts of the whole run so far. */
  synchronized Summary total() {
    totalLatency.add(intervalLatency.getIntervalHistogram());
    return summary(total, totalLatency, (System.nanoTime() - startNanos) / 1e9);
  }

  private Summary summary(Counts c, Histogram h, double seconds) {
    return new Summary(
        c.sent,
        c.ok,
        c.failed,
        c.wrong,
        c.retried,
        c.attempts,
        c.coordinatorFailovers,
        millis(h, 50),
        millis(h, 99),
        h.getTotalCount() == 0 ? 0 : round(h.getMaxValue() / 1000.0),
        new LinkedHashMap<>(c.byNode),
        round(seconds),
        List.copyOf(errors));
  }

  private static double millis(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : round(h.getValueAtPercentile(percentile) / 1000.0);
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
