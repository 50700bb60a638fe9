package ftlab.client.scenario;

import ftlab.proto.NodeState;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A fault story that runs the same way every time (Chaos Toolkit's experiments and Jepsen's
 * histories are the models): a cluster, a checked client load, a timeline of actions at fixed
 * offsets, and the expectations the history is checked against at the end. Read from a YAML file by
 * {@link ScenarioFile}; {@code text} is that file, kept in the history so that {@code ftlab
 * scenario check} needs nothing else; {@code picks} are the members the seed chose for "any node"
 * and "any coordinator" ({@code any node -> node-3}), already put in the actions and expectations.
 * {@code tls}: the local cluster it starts runs with mutual TLS ({@code ftlab local up --tls}).
 */
public record Scenario(
    String name,
    String description,
    Target target,
    int nodes,
    int coordinators,
    boolean tls,
    long seed,
    Load load,
    Duration duration,
    List<Action> timeline,
    List<Expectation> expectations,
    String text,
    Map<String, String> picks) {

  /** Where it runs. */
  public enum Target {
    /** a cluster of local processes it starts itself ({@code ftlab local up}) and stops after */
    LOCAL,
    /** the compose lab, already up ({@code docker compose up -d}) */
    COMPOSE;

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * The checked client load, as {@code ftlab watch} sends it.
   *
   * @param echoMs an echo task's longest wait: each waits 0 to this ({@code watch --echo-delay-ms})
   */
  public record Load(
      double rate, int concurrency, String task, Optional<String> mode, int replicas, int echoMs) {
    /** An echo's longest wait unless the file says: short, so that echoes are mostly network. */
    public static final int ECHO_MS = 20;
  }

  /** What an action does. */
  public enum Verb {
    STOP("stop a node or coordinator gracefully (SIGTERM, docker stop)"),
    KILL("kill it (SIGKILL, docker kill)"),
    PAUSE("freeze it (SIGSTOP, docker pause)"),
    UNPAUSE("let it run again (SIGCONT, docker unpause)"),
    START("start it again after a stop or kill"),
    DISCONNECT("cut it off the network (docker network disconnect; compose only)"),
    CONNECT("connect it again (docker network connect; compose only)"),
    FAULT("inject an in-app fault into a node (freeze, mute, slow, lie, crash)"),
    HEAL("lift a node's in-app faults"),
    MODE("switch the coordinators' redundancy mode"),
    SCALE(
        "add nodes or take some away: the pool service to N nodes (compose), the cluster to N"
            + " nodes (local)"),
    REVOKE("revoke a member's certificate at every coordinator (mutual TLS: cluster tls: true)"),
    UNREVOKE("take a revocation back (ftlab revoke --undo)"),
    READMIT("take a QUARANTINED node back at every coordinator (ftlab readmit)"),
    ATTACK(
        "an attacker tries something it may not: impersonate a node, or switch the mode (local"
            + " only)");

    final String meaning;

    Verb(String meaning) {
      this.meaning = meaning;
    }

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }

    /** Whether the action names a member (node-3, coordinator-1). */
    boolean needsTarget() {
      return this != MODE && this != SCALE;
    }
  }

  /**
   * One step of the timeline.
   *
   * @param line the line of the file it was written on, for messages
   * @param name how expectations refer to it ("kill-3"); the verb and target if none was given
   * @param at its offset from the start of the load
   * @param args the verb's own settings (fault: freeze; mode: vote, replicas: 3; scale: 2)
   */
  public record Action(
      int line, String name, Duration at, Verb verb, String target, Map<String, String> args) {

    /**
     * "kill node-3", "fault node-2 (slow, delay 200ms)", "mode vote (replicas 3)", "attack: beat
     * for node-1 with node-3's certificate".
     */
    public String describe() {
      if (verb == Verb.ATTACK) {
        String as = args.get("as");
        String with =
            switch (as) {
              case ScenarioFile.NO_CERTIFICATE -> "no certificate";
              case ScenarioFile.SELF_MADE -> "a self-made admin certificate";
              default -> Attack.certificate(as);
            };
        return args.get("attack").equals("impersonate")
            ? "attack: beat for " + target + " with " + with
            : "attack: switch " + target + "'s mode with " + with;
      }
      StringBuilder s = new StringBuilder(verb.word());
      if (!target.isEmpty()) {
        s.append(' ').append(target);
      }
      if (!args.isEmpty()) {
        StringBuilder a = new StringBuilder();
        args.forEach(
            (k, v) ->
                a.append(a.length() == 0 ? "" : ", ")
                    .append(
                        k.equals("delay_ms")
                            ? "delay " + Durations.words(Duration.ofMillis(Long.parseLong(v)))
                            : k + " " + v));
        s.append(" (").append(a).append(')');
      }
      return s.toString();
    }
  }

  /** Part of the run, by offsets from the start of the load: [from, to). */
  public record Window(Duration from, Duration to) {
    public static final Window WHOLE_RUN = new Window(Duration.ZERO, Duration.ofDays(1));

    boolean contains(long offsetMillis) {
      return offsetMillis >= from.toMillis() && offsetMillis < to.toMillis();
    }

    String describe() {
      return this.equals(WHOLE_RUN)
          ? "over the whole run"
          : from.isZero()
              ? "sent before " + Durations.words(to)
              : "sent between " + Durations.words(from) + " and " + Durations.words(to);
    }
  }

  /** What the history must show. Each knows the line it was written on. */
  public sealed interface Expectation {
    int line();

    /** The expectation in words, as the verdict's table shows it. */
    String describe();
  }

  /**
   * Between {@code atLeast} and {@code atMost} of the requests sent in a window ended this way
   * (FAILED or WRONG): {@code failed: 0} is at most none over the whole run; {@code failed: {at
   * least: 1, from: 9s, to: 16s}} says the requests sent then must fail (a vote that refuses to
   * guess).
   */
  public record Count(int line, Outcome outcome, long atLeast, long atMost, Window window)
      implements Expectation {
    public static final long ANY = Long.MAX_VALUE;

    /** At most {@code atMost} over the whole run. */
    public static Count atMost(int line, Outcome outcome, long atMost) {
      return new Count(line, outcome, 0, atMost, Window.WHOLE_RUN);
    }

    @Override
    public String describe() {
      String bounds;
      if (atMost == 0) {
        bounds = "no " + outcome.word() + " request";
      } else if (atLeast == atMost) {
        bounds = "exactly " + requests(atLeast);
      } else if (atLeast > 0 && atMost != ANY) {
        bounds = atLeast + " to " + atMost + " " + outcome.word() + " requests";
      } else if (atLeast > 0) {
        bounds = "at least " + requests(atLeast);
      } else {
        bounds = "at most " + requests(atMost);
      }
      return window.equals(Window.WHOLE_RUN) ? bounds : bounds + " " + window.describe();
    }

    boolean allows(long count) {
      return count >= atLeast && count <= atMost;
    }

    private String requests(long n) {
      return n + " " + outcome.word() + (n == 1 ? " request" : " requests");
    }
  }

  /** The latency percentile of the requests sent in a window is below a bound. */
  public record Percentile(int line, double percentile, Duration below, Window window)
      implements Expectation {
    @Override
    public String describe() {
      return Durations.percentileName(percentile)
          + " below "
          + Durations.words(below)
          + " for requests "
          + window.describe();
    }
  }

  /**
   * A node's share of the answers to the requests sent in a window (the load balancing lab: a slow
   * node gets little work, a healed one gets its share back), in percent, within the bounds.
   */
  public record Share(int line, String node, double atLeast, double atMost, Window window)
      implements Expectation {
    @Override
    public String describe() {
      String bounds;
      if (atLeast > 0 && atMost < 100) {
        bounds = Durations.percent(atLeast) + " to " + Durations.percent(atMost);
      } else if (atLeast > 0) {
        bounds = "at least " + Durations.percent(atLeast);
      } else {
        bounds = "at most " + Durations.percent(atMost);
      }
      return node + " answered " + bounds + " of the requests " + window.describe();
    }

    boolean allows(double percent) {
      return percent >= atLeast && percent <= atMost;
    }
  }

  /**
   * The throughput of a window (requests sent in it and answered, per second of it) within bounds:
   * in requests per second ({@code at least: 40/s}), or, with a {@code baseline} window, as a
   * multiple of the baseline's throughput ({@code at least: 1.5x}: scaling out paid off). An absent
   * bound is -1.
   */
  public record Throughput(
      int line, double atLeast, double atMost, Window window, Optional<Window> baseline)
      implements Expectation {
    @Override
    public String describe() {
      String unit = baseline.isPresent() ? "x" : "/s";
      String bounds;
      if (atLeast >= 0 && atMost >= 0) {
        bounds = trim(atLeast) + unit + " to " + trim(atMost) + unit;
      } else if (atLeast >= 0) {
        bounds = "at least " + trim(atLeast) + unit;
      } else {
        bounds = "at most " + trim(atMost) + unit;
      }
      return "throughput of the requests "
          + window.describe()
          + " "
          + bounds
          + baseline.map(b -> " of that of those " + b.describe()).orElse("");
    }

    boolean allows(double value) {
      return (atLeast < 0 || value >= atLeast) && (atMost < 0 || value <= atMost);
    }

    private static String trim(double v) {
      return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }
  }

  /**
   * A node reaches a state at the coordinators (every coordinator, or one) within a time of an
   * action, or, with {@code votes} (not -1), within that many of its votes counted by that
   * coordinator since the action ({@code within: 5 votes}: a liar quarantined).
   */
  public record StateWithin(
      int line,
      String node,
      NodeState state,
      Duration within,
      long votes,
      String afterAction,
      Optional<String> coordinator)
      implements Expectation {
    @Override
    public String describe() {
      return node
          + " "
          + state
          + " at "
          + coordinator.orElse("every coordinator")
          + " within "
          + (votes >= 0 ? votes + (votes == 1 ? " vote" : " votes") : Durations.words(within))
          + " of "
          + afterAction;
    }
  }

  /**
   * Between {@code atLeast} and {@code atMost} calls refused by one of the coordinators' defences
   * ({@code by}: a layer of the scoreboard in docs/security.md, or "guards", the membership's), in
   * a window of the run, summed over the coordinators (or at one): {@code refused: {by: identity,
   * at least: 1}}.
   */
  public record Refused(
      int line, String by, long atLeast, long atMost, Window window, Optional<String> coordinator)
      implements Expectation {
    /** The layers a refusal can be counted by, as the coordinators' views name them. */
    public static final List<String> LAYERS =
        List.of("handshake", "authorization", "identity", "revocation", "rate_limit", "guards");

    @Override
    public String describe() {
      String bounds;
      if (atMost == 0) {
        bounds = "no call refused";
      } else if (atLeast == atMost) {
        bounds = "exactly " + calls(atLeast) + " refused";
      } else if (atLeast > 0 && atMost != Count.ANY) {
        bounds = atLeast + " to " + atMost + " calls refused";
      } else if (atLeast > 0) {
        bounds = "at least " + calls(atLeast) + " refused";
      } else {
        bounds = "at most " + calls(atMost) + " refused";
      }
      String where = coordinator.map(c -> " at " + c).orElse("");
      String when =
          window.equals(Window.WHOLE_RUN)
              ? ""
              : window.from().isZero()
                  ? " before " + Durations.words(window.to())
                  : " between "
                      + Durations.words(window.from())
                      + " and "
                      + Durations.words(window.to());
      return bounds + " by " + by + where + when;
    }

    boolean allows(long count) {
      return count >= atLeast && count <= atMost;
    }

    private static String calls(long n) {
      return n + (n == 1 ? " call" : " calls");
    }
  }

  /**
   * Every action must take effect (the container paused, the fault reported): the checker adds a
   * missed one of these for each action that did not. Not written in files.
   */
  public record ActionTookEffect(String action) implements Expectation {
    @Override
    public int line() {
      return 0;
    }

    @Override
    public String describe() {
      return action + " took effect";
    }
  }

  /**
   * No request lost: every request the load sent ended, answered or failed with a reason ({@code
   * lost: 0}); the load counts what it sent, the history what ended.
   */
  public record Lost(int line, long atMost) implements Expectation {
    @Override
    public String describe() {
      return atMost == 0
          ? "no request lost (every one sent ended, answered or failed)"
          : "at most " + atMost + " requests lost";
    }
  }

  /**
   * No healthy node declared DEAD ({@code false deaths: 0}): a DEAD transition at a coordinator
   * counts as false unless the node, or that coordinator, was under one of the timeline's actions
   * within {@code grace} before it (killed, stopped, paused, faulted; an action lasts until its
   * undoing: start, unpause, heal). SUSPECT transitions of healthy nodes are counted beside it
   * (false suspicions) but allowed.
   */
  public record FalseDeaths(int line, long atMost, Duration grace) implements Expectation {
    @Override
    public String describe() {
      return (atMost == 0 ? "no healthy node" : "at most " + atMost + " healthy nodes")
          + " declared DEAD (no action on it or its coordinator in the "
          + Durations.words(grace)
          + " before)";
    }
  }

  /**
   * Every process of the cluster that lived half the run or more kept its memory and thread count
   * flat ({@code steady: {memory: 25%, threads: 5}}): sampled every few seconds (a local process
   * from {@code /proc}, a compose lab's container with {@code docker stats}), the last third of its
   * samples against the first third (after {@code warmup}), memory (resident set; a container's
   * cgroup memory) grown by at most {@code memoryPercent}, threads by at most {@code threads}
   * (medians of each third).
   */
  public record Steady(int line, double memoryPercent, long threads, Duration warmup)
      implements Expectation {
    @Override
    public String describe() {
      return "memory within +"
          + Durations.percent(memoryPercent)
          + " and threads within +"
          + threads
          + " for every process that lived half the run or more";
    }
  }

  /**
   * At the end every fault is undone: every node a coordinator knows is ALIVE at it, by the last
   * state recorded from each coordinator ({@code settled: true}).
   */
  public record Settled(int line) implements Expectation {
    @Override
    public String describe() {
      return "every node ALIVE at every coordinator at the end";
    }
  }

  /** How a request ended, as the client saw it (Jepsen: ok, fail; WRONG is ftlab's check). */
  public enum Outcome {
    OK,
    WRONG,
    FAILED;

    public String word() {
      return name().toLowerCase(Locale.ROOT);
    }
  }
}
