package ftlab.client.watch;

import ftlab.client.CoordinatorOption;
import ftlab.client.Coordinators;
import ftlab.client.DurationConverter;
import ftlab.client.RedundancyOption;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptOutcome;
import ftlab.proto.Ballot;
import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyWords;
import ftlab.security.Role;
import ftlab.task.Tasks;
import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code ftlab watch}: a steady stream of checked requests, one line per answer. */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    description = {
      "Send a steady, bounded stream of tasks to the coordinators and check every answer.",
      "One line per answer: id, task, answer, verified or WRONG, the node that served it, how"
          + " (primary, retry, hedge, parallel or vote 2/3), attempts, coordinator, latency. A"
          + " summary every few seconds and at the end. Exit code 1 if any answer was wrong or any"
          + " request failed."
    })
public final class WatchCommand implements Callable<Integer> {
  private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

  @Mixin CoordinatorOption coordinatorOption;

  @Option(
      names = "--rate",
      defaultValue = "20",
      description =
          "Requests per second; 0 = as fast as --concurrency allows. Default: ${DEFAULT-VALUE}.")
  double rate;

  @Option(
      names = "--concurrency",
      defaultValue = "4",
      description = "Requests in flight at most. Default: ${DEFAULT-VALUE}.")
  int concurrency;

  @Option(
      names = "--duration",
      defaultValue = "10m",
      converter = DurationConverter.class,
      description = "Stop after this long (e.g. 30s, 5m). Default: ${DEFAULT-VALUE}.")
  Duration duration;

  @Option(
      names = "--count",
      defaultValue = "0",
      description =
          "Stop after this many requests; 0 = only --duration limits. Default: ${DEFAULT-VALUE}.")
  long count;

  @Option(
      names = "--task",
      defaultValue = "mix",
      description = "primes, echo or mix (4 prime counts per echo). Default: ${DEFAULT-VALUE}.")
  String task;

  @Option(
      names = "--primes-width",
      defaultValue = "20000",
      description = "Numbers per prime-count task. Default: ${DEFAULT-VALUE}.")
  long primesWidth;

  @Option(
      names = "--echo-delay-ms",
      defaultValue = "20",
      description = "Largest delay of an echo task. Default: ${DEFAULT-VALUE}.")
  int echoDelayMs;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description =
          "Seed of the task stream; the same seed sends the same tasks. Default: ${DEFAULT-VALUE}.")
  long seed;

  @Option(
      names = "--timeout",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description =
          "Give up on a request (count it failed) after this long. Default: ${DEFAULT-VALUE}.")
  Duration timeout;

  @Option(
      names = "--coordinator-timeout",
      defaultValue = "2s",
      converter = DurationConverter.class,
      description =
          "Try another coordinator when one has not answered within this (plus the"
              + " task's own duration). Default: ${DEFAULT-VALUE}.")
  Duration coordinatorTimeout;

  @Option(
      names = "--interval",
      defaultValue = "5s",
      converter = DurationConverter.class,
      description = "Time between summary lines. Default: ${DEFAULT-VALUE}.")
  Duration interval;

  @Option(
      names = "--mode",
      description =
          "Ask for this redundancy on every request: failover, hedged, parallel or vote."
              + " Default: each coordinator's own mode (see 'ftlab mode').")
  String mode;

  @Option(
      names = "--replicas",
      defaultValue = "0",
      description =
          "With --mode parallel or vote: nodes per request. Default: the coordinator's own (its"
              + " FTLAB_REPLICAS, or the last count given with 'ftlab mode').")
  int replicas;

  @Option(
      names = "--wait-for-nodes",
      defaultValue = "60s",
      converter = DurationConverter.class,
      description =
          "Before counting, wait at most this long until every coordinator that answers has a"
              + " node ALIVE (a lab that was just started); 0 = start at once. Default:"
              + " ${DEFAULT-VALUE}.")
  Duration waitForNodes;

  @Option(names = "--quiet", description = "Print only the summaries, not a line per answer.")
  boolean quiet;

  @Option(
      names = "--json",
      description =
          "Print the final summary as one JSON object on stdout (sent, ok, failed, wrong,"
              + " p50_ms, p99_ms, by_node, ...); everything else goes to stderr.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    if (waitForNodes.isNegative() || waitForNodes.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException(
          "wait for nodes must be between 0 and 1 h, got " + human(waitForNodes));
    }
    if (interval.toMillis() < 100) {
      throw new IllegalArgumentException(
          "interval must be at least 100 ms, got " + interval.toMillis() + " ms");
    }
    Watch.Settings settings =
        new Watch.Settings(
            rate,
            concurrency,
            duration,
            count,
            coordinatorTimeout,
            timeout,
            new TaskMix(task, seed, primesWidth, echoDelayMs),
            mode == null
                ? Redundancy.getDefaultInstance()
                : RedundancyOption.parse(mode, replicas));
    PrintStream out = json ? System.err : System.out;
    try (Coordinators coordinators =
        new Coordinators(
            coordinatorOption.resolve(),
            coordinatorOption.credentials("client", Role.COORDINATOR))) {
      Watch watch = new Watch(coordinators, settings);
      CountDownLatch finished = new CountDownLatch(1);
      Thread onCtrlC =
          new Thread(
              () -> {
                // Ctrl-C: stop sending, let the final summary print, then exit.
                watch.stop();
                try {
                  finished.await(
                      settings.requestTimeout().toMillis() + 2_000, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "ctrl-c");
      Runtime.getRuntime().addShutdownHook(onCtrlC);
      out.printf(
          "watching %s: %s, %s in flight at most, for %s%s; redundancy: %s%n",
          String.join(", ", coordinators.addresses()),
          rate > 0 ? fmt(rate) + " requests/s" : "as fast as possible",
          concurrency,
          human(duration),
          count > 0 ? " or " + count + " requests" : "",
          RedundancyWords.describe(settings.redundancy()));
      coordinators.connect(Coordinators.CONNECT_FIRST);
      NodesReady.await(coordinators, waitForNodes, out::println);
      if (!quiet) {
        out.println(header());
      }
      Summary total =
          watch.run(
              o -> {
                if (!quiet) {
                  out.println(line(o));
                }
              },
              s -> out.println(intervalLine(s)),
              interval);
      out.println(finalLine(total));
      if (json) {
        System.out.println(total.toJson());
      }
      System.out.flush();
      finished.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(onCtrlC);
      } catch (IllegalStateException e) {
        // already shutting down (Ctrl-C): the hook is running and waits for us
      }
      return total.allCorrect() && total.sent() > 0 ? 0 : 1;
    }
  }

  /** One answer's columns (then its notes): {@link #line}. */
  static final String ROW = "%-7s %-30s %-10s %-8s %-9s %-8s %-5d %-14s %9s";

  /** A request that got no answer (then the coordinators' failures): {@link #line}. */
  static final String FAILED_ROW = "%-7s %-30s FAILED after %s: %s";

  /** The summary every 5 s: {@link #intervalLine}. */
  static final String INTERVAL =
      "-- %s  last %.0f s: %d ok, %d failed, %d wrong, %d retried, %s extra attempts | p50 %s ms"
          + "  p99 %s ms | %s";

  /** The verdict at the end: {@link #finalLine}. */
  static final String FINAL =
      "== %s in %.1f s: %d sent, %d ok, %d failed, %d wrong, %d retried, %s extra attempts,"
          + " %d coordinator failovers | p50 %s ms  p99 %s ms  max %s ms | %s";

  static String header() {
    return String.format(
        "%-7s %-30s %-10s %-8s %-9s %-8s %-5s %-14s %9s",
        "id", "task", "answer", "check", "node", "how", "tries", "coordinator", "latency");
  }

  /**
   * One line per request: what was asked, the answer, who answered and how, and how long it took.
   */
  static String line(Outcome o) {
    String id = "#" + o.id();
    String task = Tasks.describe(o.task());
    if (o.failed()) {
      StringBuilder s =
          new StringBuilder(String.format(FAILED_ROW, id, task, ms(o.latencyNanos()), o.error()));
      for (String f : o.coordinatorFailures()) {
        s.append("  [coordinator ").append(f).append("]");
      }
      return s.toString();
    }
    String answer = Tasks.describe(o.answer().getResult());
    String check = o.ok() ? "verified" : "WRONG";
    StringBuilder s =
        new StringBuilder(
            String.format(
                ROW,
                id,
                task,
                answer,
                check,
                o.answer().getNodeId(),
                o.how(),
                o.answer().getAttemptsCount(),
                o.answer().getCoordinatorId(),
                ms(o.latencyNanos())));
    if (o.wrong()) {
      s.append("  expected ").append(Tasks.describe(o.expected()));
    }
    StringJoiner notes = new StringJoiner("; ", "  [", "]").setEmptyValue("");
    for (Attempt a : o.answer().getAttemptsList()) {
      if (a.getOutcome() == AttemptOutcome.CANCELLED) {
        notes.add(a.getNodeId() + " cancelled"); // a hedge or replica that was not needed
      } else if (a.getOutcome() == AttemptOutcome.FAILED) {
        notes.add(
            a.getNodeId()
                + " "
                + a.getFailureCode()
                + ": "
                + a.getDetail()
                + (a.getMayHaveRun() ? " (may have run there too)" : ""));
      }
    }
    // in vote mode, who was outvoted and what it said
    for (int i = 1; i < o.answer().getTallyCount(); i++) {
      Ballot b = o.answer().getTally(i);
      notes.add(
          "outvoted: "
              + String.join(", ", b.getNodeIdsList())
              + " said "
              + Tasks.describe(b.getResult()));
    }
    s.append(notes);
    for (String f : o.coordinatorFailures()) {
      s.append("  [coordinator ").append(f).append("]");
    }
    return s.toString();
  }

  static String intervalLine(Summary s) {
    return String.format(
        INTERVAL,
        LocalTime.now().format(CLOCK),
        s.durationS(),
        s.ok(),
        s.failed(),
        s.wrong(),
        s.retried(),
        percent(s.extraAttemptsPerAnswer()),
        fmt(s.p50Ms()),
        fmt(s.p99Ms()),
        shares(s.byNode()));
  }

  static String finalLine(Summary s) {
    return String.format(
            FINAL,
            s.allCorrect() ? "PASS" : "FAIL",
            s.durationS(),
            s.sent(),
            s.ok(),
            s.failed(),
            s.wrong(),
            s.retried(),
            percent(s.extraAttemptsPerAnswer()),
            s.coordinatorFailovers(),
            fmt(s.p50Ms()),
            fmt(s.p99Ms()),
            fmt(s.maxMs()),
            shares(s.byNode()))
        + (s.errors().isEmpty()
            ? ""
            : "\n   failures: " + String.join("\n             ", s.errors()));
  }

  /** "node-1 21% node-2 19%": each node's share of the answers. */
  static String shares(Map<String, Long> byNode) {
    long total = byNode.values().stream().mapToLong(Long::longValue).sum();
    if (total == 0) {
      return "no answers";
    }
    StringJoiner j = new StringJoiner("  ");
    byNode.forEach((node, n) -> j.add(node + " " + Math.round(100.0 * n / total) + "%"));
    return j.toString();
  }

  /** 0.052 -> "5%"; 2.0 -> "200%". */
  static String percent(double fraction) {
    return Math.round(fraction * 100) + "%";
  }

  private static String ms(long nanos) {
    return fmt(nanos / 1e6) + " ms";
  }

  private static String fmt(double v) {
    return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v);
  }

  private static String human(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }
}
