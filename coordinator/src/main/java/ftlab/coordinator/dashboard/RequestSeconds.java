package ftlab.coordinator.dashboard;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongFunction;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;

/**
 * The dashboard's charts, second by second: how many requests ended in each wall-clock second,
 * answered or failed, their p50 and p99 time, and the extra work they took (retries after a failed
 * attempt, hedges, outvoted replicas). Pure: the caller passes the time in and gets closed seconds
 * and episodes out; nothing here reads a clock or sends anything.
 *
 * <p>Every second is closed, the quiet ones too (0 answers is what an outage looks like), and the
 * last {@link #KEPT} are kept for a page that opens later.
 *
 * <p><b>Episodes.</b> Extra work comes in runs: while node-2 fails, every request on it is retried
 * elsewhere. Listing each retry would bury the events timeline, so a run is told twice: when a
 * second has some after a second without ("failovers began: node-2 UNAVAILABLE"), and when a second
 * has none after one with ("failovers stopped: 812 retried over 4 s").
 */
final class RequestSeconds {
  /** Seconds kept for a page that opens now: the charts' five minutes. */
  static final int KEPT = 300;

  /** One closed second. p50 and p99 are of every request that ended in it, NaN if none did. */
  record Second(
      long startMillis,
      long answered,
      long failed,
      double p50Ms,
      double p99Ms,
      long retries,
      long hedges,
      long hedgesWon,
      long outvoted) {}

  /** A run of extra work began or stopped, in words, with the second that told it. */
  record Episode(long atMillis, String kind, String text) {}

  /** What one request that ended brings to its second. */
  record Ended(
      boolean answered,
      long requestNanos,
      int retries,
      int hedges,
      boolean hedgeWon,
      List<String> failedAttempts,
      List<String> outvotedNodes) {}

  /** What {@link #closeBefore} closed. */
  record Closed(List<Second> seconds, List<Episode> episodes) {}

  private final Histogram times = new Histogram(2);
  private final Deque<Second> kept = new ArrayDeque<>();

  /**
   * Seconds closed but not yet handed out by {@link #closeBefore}: under steady traffic a second is
   * closed by the first request of the next one, between two batches.
   */
  private final Deque<Second> unreported = new ArrayDeque<>();

  /** The second being counted, in seconds since the epoch; -1 before the first call. */
  private long current = -1;

  private long answered;
  private long failed;
  private long retries;
  private long hedges;
  private long hedgesWon;
  private long outvoted;

  /** Failed attempts in this second, by "node CODE", and outvoted replicas by node. */
  private final Map<String, Integer> failures = new LinkedHashMap<>();

  private final Map<String, Integer> outvotedBy = new LinkedHashMap<>();

  private final Run failoverRun = new Run("failover");
  private final Run hedgeRun = new Run("hedge");
  private final Run voteRun = new Run("outvoted");

  /** A request ended at {@code nowMillis} (wall clock). */
  void record(long nowMillis, Ended e, List<Episode> out) {
    advanceTo(nowMillis / 1000, out);
    if (e.answered()) {
      answered++;
    } else {
      failed++;
    }
    times.recordValue(Math.max(0, TimeUnit.NANOSECONDS.toMicros(e.requestNanos())));
    retries += e.retries();
    hedges += e.hedges();
    if (e.hedgeWon()) {
      hedgesWon++;
    }
    for (String f : e.failedAttempts()) {
      failures.merge(f, 1, Integer::sum);
    }
    for (String n : e.outvotedNodes()) {
      outvoted++;
      outvotedBy.merge(n, 1, Integer::sum);
    }
  }

  /**
   * Closes every second before the one {@code nowMillis} falls in, and hands out every second
   * closed since the last call (some may have been closed by {@link #record}).
   */
  Closed closeBefore(long nowMillis) {
    List<Episode> episodes = new ArrayList<>();
    advanceTo(nowMillis / 1000, episodes);
    List<Second> seconds = new ArrayList<>(unreported);
    unreported.clear();
    return new Closed(seconds, episodes);
  }

  /** The last {@link #KEPT} closed seconds, oldest first. */
  List<Second> kept() {
    return new ArrayList<>(kept);
  }

  private void advanceTo(long second, List<Episode> episodes) {
    if (current < 0) {
      current = second;
      return;
    }
    if (second <= current) {
      return; // the same second (or the wall clock stepped back): counted in the current one
    }
    close(episodes);
    // quiet seconds, as many as the charts keep
    for (long s = Math.max(current + 1, second - KEPT); s < second; s++) {
      current = s;
      close(episodes);
    }
    current = second;
  }

  private void close(List<Episode> episodes) {
    long start = current * 1000;
    double p50 = Double.NaN;
    double p99 = Double.NaN;
    if (times.getTotalCount() > 0) {
      p50 = times.getValueAtPercentile(50) / 1000.0;
      p99 = times.getValueAtPercentile(99) / 1000.0;
    }
    Second s = new Second(start, answered, failed, p50, p99, retries, hedges, hedgesWon, outvoted);
    kept.addLast(s);
    if (kept.size() > KEPT) {
      kept.removeFirst();
    }
    unreported.addLast(s);
    if (unreported.size() > KEPT) {
      unreported.removeFirst();
    }
    long retried = retries;
    failoverRun.second(
        start,
        failures.values().stream().mapToInt(i -> i).sum(),
        episodes,
        () ->
            "attempts failing ("
                + top(failures)
                + ")"
                + (retried > 0 ? ", requests retried on another node" : ""),
        n -> n + " failed attempts");
    hedgeRun.second(
        start,
        hedges,
        episodes,
        () -> "hedges sent: attempts slower than expected got a second copy",
        n -> n + " hedges sent");
    voteRun.second(
        start,
        outvoted,
        episodes,
        () -> "votes disagree: " + top(outvotedBy) + " outvoted",
        n -> n + " replicas outvoted");
    times.reset();
    answered = failed = retries = hedges = hedgesWon = outvoted = 0;
    failures.clear();
    outvotedBy.clear();
  }

  /** The two most frequent, with their counts: "node-2 UNAVAILABLE x40, node-3 CANCELLED x2". */
  private static String top(Map<String, Integer> counts) {
    return counts.entrySet().stream()
            .sorted((a, b) -> b.getValue() - a.getValue())
            .limit(2)
            .map(e -> e.getKey() + " x" + e.getValue())
            .collect(Collectors.joining(", "))
        + (counts.size() > 2 ? ", ..." : "");
  }

  /** A run of one kind of extra work: when it began, and how much it has had. */
  private static final class Run {
    private final String kind;
    private long began = -1;
    private long total;

    Run(String kind) {
      this.kind = kind;
    }

    void second(
        long startMillis,
        long count,
        List<Episode> out,
        Supplier<String> began,
        LongFunction<String> total) {
      if (count > 0 && this.began < 0) {
        this.began = startMillis;
        this.total = 0;
        out.add(new Episode(startMillis, kind, kind + " began: " + began.get()));
      }
      if (count > 0) {
        this.total += count;
      } else if (this.began >= 0) {
        long seconds = (startMillis - this.began) / 1000;
        out.add(
            new Episode(
                startMillis,
                kind + "-end",
                kind + " stopped: " + total.apply(this.total) + " in " + seconds + " s"));
        this.began = -1;
      }
    }
  }
}
