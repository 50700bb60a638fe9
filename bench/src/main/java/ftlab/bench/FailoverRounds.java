package ftlab.bench;

import ftlab.client.Coordinators;
import ftlab.client.Poll;
import ftlab.client.status.ViewRecorder;
import ftlab.client.watch.Outcome;
import ftlab.client.watch.TaskMix;
import ftlab.client.watch.Watch;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;

/**
 * The failover measurement, whatever runs the cluster: under a steady checked load, apply each
 * {@link Fault} {@code rounds} times (to a different node each time, never the first one) and
 * measure the time from the fault to each coordinator's DEAD or LEFT, the client-visible failures,
 * latency around the fault vs before it, and false suspicions of the healthy nodes. Prints a
 * Markdown table on stdout, progress on stderr.
 */
final class FailoverRounds {
  /**
   * Latency windows: steady is the 3 s before a fault, "around" the 3 s after it (by the time each
   * request was sent).
   */
  private static final long WINDOW_NANOS = TimeUnit.SECONDS.toNanos(3);

  private record Sample(long sentAtNanos, long latencyNanos, boolean ok) {}

  private record Round(
      Fault fault, long faultAtNanos, List<Double> detectMs, long falseSuspicions) {}

  private final List<String> coordinatorAddresses;
  private final List<String> coordinatorIds;
  private final List<String> nodes;
  private final List<Fault> faults;
  private final int rounds;
  private final double rate;

  /**
   * @param nodes the nodes' ids; the first is never broken, so that one always answers
   */
  FailoverRounds(
      List<String> coordinatorAddresses,
      List<String> coordinatorIds,
      List<String> nodes,
      List<Fault> faults,
      int rounds,
      double rate) {
    if (rounds < 1 || rounds > 50 || nodes.size() < 2 || rate <= 0 || rate > 2_000) {
      throw new IllegalArgumentException(
          "need 1 <= rounds <= 50, at least 2 nodes and 0 < rate <= 2000; got "
              + rounds
              + " rounds, "
              + nodes.size()
              + " nodes, rate "
              + rate);
    }
    this.coordinatorAddresses = coordinatorAddresses;
    this.coordinatorIds = coordinatorIds;
    this.nodes = nodes;
    this.faults = List.copyOf(faults);
    this.rounds = rounds;
    this.rate = rate;
  }

  /**
   * Runs every round under load and prints the table.
   *
   * @param title the table's first line
   * @param duringWarmUp runs once the load is steady, before the first fault (e.g. to read memory
   *     use under load)
   */
  void run(String title, Runnable duringWarmUp) throws Exception {
    ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
    List<Round> done = new ArrayList<>();
    // bounded: about 16 s per round plus warm-up; the watch stops itself after this at the latest
    Duration budget = Duration.ofSeconds(60 + 3L * rounds * 30);
    Watch.Settings settings =
        Watch.Settings.DEFAULT
            .withRate(rate)
            .withConcurrency(8)
            .withDuration(budget)
            .withTasks(new TaskMix("mix", 11, 20_000, 10));
    try (Coordinators coordinators = new Coordinators(coordinatorAddresses);
        ViewRecorder views = new ViewRecorder(coordinators, Duration.ofMillis(5))) {
      Watch load = new Watch(coordinators, settings);
      CompletableFuture<?> running =
          CompletableFuture.runAsync(
              () -> {
                try {
                  load.run(
                      (Outcome o) ->
                          samples.add(new Sample(o.sentNanos(), o.latencyNanos(), o.ok())),
                      s -> {},
                      Duration.ofSeconds(5));
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      System.err.println("warming up under load for 10 s");
      TimeUnit.SECONDS.sleep(10);
      duringWarmUp.run();
      for (Fault fault : faults) {
        for (int r = 0; r < rounds; r++) {
          String victim = nodes.get(1 + r % (nodes.size() - 1));
          done.add(round(fault, victim, views, coordinators));
        }
      }
      load.stop();
      running.get(30, TimeUnit.SECONDS);
    }
    report(title, done, new ArrayList<>(samples));
  }

  private Round round(Fault fault, String victim, ViewRecorder views, Coordinators coordinators)
      throws Exception {
    long suspicionsBefore = suspicionsOfOthers(coordinators, victim);
    long t0 = System.nanoTime();
    fault.apply().on(victim);
    List<Double> detect = new ArrayList<>();
    for (String c : coordinatorIds) {
      waitUntil(() -> views.entered(c, victim, fault.expected(), t0).isPresent(), 10);
      views.entered(c, victim, fault.expected(), t0).ifPresent(at -> detect.add((at - t0) / 1e6));
    }
    TimeUnit.SECONDS.sleep(3);
    fault.undo().on(victim);
    if (!waitUntil(() -> views.allSee(victim, NodeState.ALIVE, coordinatorIds), 30)) {
      System.err.println(victim + " did not come back ALIVE within 30 s");
    }
    TimeUnit.SECONDS.sleep(4); // steady state again before the next fault
    long falseSuspicions = suspicionsOfOthers(coordinators, victim) - suspicionsBefore;
    System.err.printf(
        Locale.ROOT,
        "%s of %s: detected after %s ms; false suspicions of other nodes: %d%n",
        fault.name(),
        victim,
        detect,
        falseSuspicions);
    return new Round(fault, t0, detect, falseSuspicions);
  }

  /** Polls every 5 ms, at most {@code seconds}; returns whether the condition came true. */
  private static boolean waitUntil(BooleanSupplier condition, int seconds)
      throws InterruptedException {
    return Poll.untilTrue(Duration.ofSeconds(seconds), Duration.ofMillis(5), condition);
  }

  /**
   * Times any coordinator has suspected a node other than the victim, by their own counts, asked
   * now (each coordinator again for up to 10 s if it does not answer: a count left out would read
   * as a change).
   */
  private static long suspicionsOfOthers(Coordinators coordinators, String victim)
      throws InterruptedException {
    long n = 0;
    for (int i = 0; i < coordinators.size(); i++) {
      int c = i;
      n +=
          Poll.until(
                  Duration.ofSeconds(10),
                  Duration.ofMillis(200),
                  () -> {
                    try {
                      return Optional.of(
                          coordinators.view(c, 2_000).getNodesList().stream()
                              .filter(node -> !node.getNodeId().equals(victim))
                              .mapToLong(NodeView::getTimesSuspected)
                              .sum());
                    } catch (StatusRuntimeException e) {
                      return Optional.empty();
                    }
                  })
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "coordinator at " + coordinators.address(c) + " did not give its view"));
    }
    return n;
  }

  private void report(String title, List<Round> rounds, List<Sample> samples) {
    System.out.println(title);
    System.out.println();
    System.out.println(
        "| fault | detect median ms | detect min-max ms | client-visible failures | steady p50 / p99 ms"
            + " | around fault p50 / p99 / max ms | false suspicions |");
    System.out.println("|---|---:|---:|---:|---:|---:|---:|");
    for (Fault fault : faults) {
      List<Round> mine = rounds.stream().filter(r -> r.fault() == fault).toList();
      List<Double> detect = new ArrayList<>();
      mine.forEach(r -> detect.addAll(r.detectMs()));
      Collections.sort(detect);
      Histogram steady = new Histogram(3);
      Histogram around = new Histogram(3);
      long failures = 0;
      for (Round r : mine) {
        for (Sample s : samples) {
          long dt = s.sentAtNanos() - r.faultAtNanos();
          if (dt >= -WINDOW_NANOS && dt < 0) {
            steady.recordValue(Math.max(1, s.latencyNanos() / 1_000));
          } else if (dt >= 0 && dt < WINDOW_NANOS) {
            around.recordValue(Math.max(1, s.latencyNanos() / 1_000));
            if (!s.ok()) {
              failures++;
            }
          }
        }
      }
      int expected = mine.size() * coordinatorIds.size();
      // client-visible failures are counted in the 3 s after each fault; the whole run's total is
      // printed below the table
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %s | %d | %s | %s | %d |%n",
          fault.name(),
          detect.isEmpty()
              ? "not detected"
              : String.format(Locale.ROOT, "%.0f", median(detect))
                  + (detect.size() < expected
                      ? " (" + detect.size() + " of " + expected + " detected)"
                      : ""),
          detect.isEmpty()
              ? "-"
              : String.format(
                  Locale.ROOT, "%.0f-%.0f", detect.get(0), detect.get(detect.size() - 1)),
          failures,
          pair(steady, false),
          pair(around, true),
          mine.stream().mapToLong(Round::falseSuspicions).sum());
    }
    long total = samples.size();
    long bad = samples.stream().filter(s -> !s.ok()).count();
    System.out.printf("%nWhole run: %d requests, %d failed or wrong.%n", total, bad);
  }

  /** "p50 / p99", or "p50 / p99 / max": the max is the one request that waited longest. */
  private static String pair(Histogram h, boolean withMax) {
    if (h.getTotalCount() == 0) {
      return "-";
    }
    String s =
        String.format(
            Locale.ROOT,
            "%.1f / %.1f",
            h.getValueAtPercentile(50) / 1000.0,
            h.getValueAtPercentile(99) / 1000.0);
    return withMax ? s + String.format(Locale.ROOT, " / %.0f", h.getMaxValue() / 1000.0) : s;
  }

  static double median(List<Double> sorted) {
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }
}
