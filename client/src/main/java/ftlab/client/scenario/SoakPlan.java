package ftlab.client.scenario;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * A chaos soak as a scenario file: random faults from a seed (the same seed, the same file), each
 * undone after a while, under a checked load that alternates between failover and vote mode, and
 * the soak's expectations (nothing lost, failed or wrong, no healthy node declared DEAD, every
 * process's memory and threads flat, everything ALIVE at the end). The file is written beside the
 * history and runs like any other ({@code ftlab scenario run FILE}, {@code ftlab scenario check}).
 *
 * <p>The rules, so that a correct cluster passes every seed:
 *
 * <ul>
 *   <li>at most {@code nodes - 3} nodes are broken at once (a vote of 3 always finds 3 that work),
 *       and at most {@code coordinators - 1} coordinators; a member counts as broken until {@link
 *       Fault#busyUntil}: its undoing, and {@link #RESTART_SETTLE_S} more after a restart or a
 *       member connected to the network again (compose only);
 *   <li>no fault spans a mode switch: each ends {@link #MARGIN} before the phase does, and a killed
 *       or disconnected coordinator has settled by the switch (a restarted coordinator comes back
 *       in its default mode, failover, and a mode switch reaches only the coordinators that
 *       answer); coordinators are restarted in failover phases only;
 *   <li>nodes lie in vote phases only (a lie in failover mode reaches the client: lab 6 shows
 *       that), one at a time (two liars give the same wrong answer), each readmitted a second after
 *       its healing, when no coordinator is broken;
 *   <li>node-1 and coordinator-1 may be paused and faulted but are never restarted, so that at
 *       least one node and one coordinator are followed over the whole run ({@code steady});
 *   <li>the last {@link #QUIET} is free of faults: everything undone, the cluster settles.
 * </ul>
 */
final class SoakPlan {
  /** No fault within this of a phase's end. */
  static final Duration MARGIN = Duration.ofSeconds(4);

  /** The end of the run is left quiet for this long. */
  static final Duration QUIET = Duration.ofSeconds(20);

  /**
   * What a soak is run with: on a local cluster it starts (any size), or on the compose lab,
   * already up (its 5 nodes and 2 coordinators, where the network can be cut).
   */
  record Settings(
      Scenario.Target target,
      long seed,
      Duration duration,
      int nodes,
      int coordinators,
      double rate,
      int concurrency) {
    Settings {
      if (target == Scenario.Target.COMPOSE
          && (nodes != ScenarioFile.COMPOSE_NODES
              || coordinators != ScenarioFile.COMPOSE_COORDINATORS)) {
        throw new IllegalArgumentException(
            "the compose lab has "
                + ScenarioFile.COMPOSE_NODES
                + " nodes and "
                + ScenarioFile.COMPOSE_COORDINATORS
                + " coordinators (docker-compose.yml), got "
                + nodes
                + " and "
                + coordinators
                + ": --nodes and --coordinators size a local soak");
      }
      if (nodes > 50 || coordinators > 9) {
        throw new IllegalArgumentException(
            "a soak runs at most 50 nodes and 9 coordinators, got "
                + nodes
                + " and "
                + coordinators);
      }
      if (nodes < 4) {
        throw new IllegalArgumentException(
            "a soak needs at least 4 nodes (a vote of 3 and one to break), got " + nodes);
      }
      if (coordinators < 1) {
        throw new IllegalArgumentException("a soak needs a coordinator, got " + coordinators);
      }
      if (duration.compareTo(Duration.ofMinutes(1)) < 0
          || duration.compareTo(Duration.ofHours(4)) > 0) {
        throw new IllegalArgumentException(
            "a soak runs from 1 minute to 4 hours, got " + Durations.words(duration));
      }
    }

    /** A soak on a local cluster. */
    Settings(
        long seed, Duration duration, int nodes, int coordinators, double rate, int concurrency) {
      this(Scenario.Target.LOCAL, seed, duration, nodes, coordinators, rate, concurrency);
    }
  }

  /**
   * How long a member stays busy after its undoing: a restarted process needs a few seconds to
   * start and beat before it is of use (and can be faulted again: its admin port is not open
   * before), and so does a member connected again (the connections that lost packets while it was
   * cut off come back when TCP retransmits: a node's heartbeats and the coordinators' calls to it,
   * or all of a coordinator's nodes, up to ~6 s after the cut heals); the others a moment to be
   * seen healed.
   */
  static final long RESTART_SETTLE_S = 8;

  static final long HEAL_SETTLE_S = 2;

  /** One fault: its breaking and undoing actions' times (seconds), kind and member. */
  record Fault(long from, long to, String kind, String target) {
    boolean node() {
      return target.startsWith("node-");
    }

    /** Until when the member is of no use: its undoing, and the time it takes to settle. */
    long busyUntil() {
      Kind k = SoakPlan.kind(kind);
      return to
          + (k.restarts || k.cuts()
              ? RESTART_SETTLE_S
              : k == Kind.LIE ? 1 + HEAL_SETTLE_S : HEAL_SETTLE_S);
    }

    /** When a liar is taken back ({@code readmit}, at every coordinator), or -1. */
    long readmitAt() {
      return kind.equals(Kind.LIE.word) ? to + 1 : -1;
    }

    /** Whether the member is busy at some moment of [a, b]. */
    boolean overlaps(long a, long b) {
      return from <= b && busyUntil() >= a;
    }
  }

  private enum Kind {
    KILL(4, true, "kill", "start", "kill"),
    RESTART(1, true, "stop", "start", "stop"),
    CRASH(1, true, "fault crash", "start", "crash"),
    PAUSE(2, false, "pause", "unpause", "pause"),
    FREEZE(2, false, "fault freeze", "heal", "freeze"),
    SLOW(2, false, "fault slow", "heal", "slow"),
    LIE(3, false, "fault lie", "heal", "lie"),
    /** compose only: {@code docker network disconnect}, then connect under its name */
    DISCONNECT(3, false, "disconnect", "connect", "disconnect"),
    COORDINATOR_KILL(2, true, "kill", "start", "coordinator kill"),
    COORDINATOR_PAUSE(1, false, "pause", "unpause", "coordinator pause"),
    /**
     * compose only: a coordinator cut off the network and connected again; its nodes are DEAD there
     * until their connections' TCP retransmission timers fire (up to ~6 s after the cut heals)
     */
    COORDINATOR_DISCONNECT(2, false, "disconnect", "connect", "coordinator disconnect");

    final int weight;
    final boolean restarts;
    final String breaks;
    final String mends;
    final String word;

    Kind(int weight, boolean restarts, String breaks, String mends, String word) {
      this.weight = weight;
      this.restarts = restarts;
      this.breaks = breaks;
      this.mends = mends;
      this.word = word;
    }

    boolean onCoordinator() {
      return this == COORDINATOR_KILL
          || this == COORDINATOR_PAUSE
          || this == COORDINATOR_DISCONNECT;
    }

    /** Whether it cuts the network: the compose lab only. */
    boolean cuts() {
      return this == DISCONNECT || this == COORDINATOR_DISCONNECT;
    }
  }

  private SoakPlan() {}

  /**
   * How long the processes' memory is left to settle before it is judged: a quarter of the run,
   * from 20 s to 2 minutes (a JVM's resident memory grows in its first minutes, as the collector
   * sizes the heap, then stays flat: seen in every soak so far).
   */
  static long warmupSeconds(Duration duration) {
    return Math.max(20, Math.min(120, duration.toSeconds() / 4));
  }

  /** The phases' length: a minute, or a quarter of a short run. */
  static long phaseSeconds(Duration duration) {
    return Math.max(15, Math.min(60, duration.toSeconds() / 4));
  }

  /** Whether the phase a time is in runs in vote mode (failover first, then vote, in turn). */
  static boolean votePhase(long second, long phase) {
    return (second / phase) % 2 == 1;
  }

  /** The faults a seed gives, in the order they begin. */
  static List<Fault> faults(Settings s) {
    Random random = new Random(s.seed());
    long end = s.duration().toSeconds() - QUIET.toSeconds();
    long phase = phaseSeconds(s.duration());
    int nodeLimit = s.nodes() - 3;
    int coordinatorLimit = s.coordinators() - 1;
    List<Fault> faults = new ArrayList<>();
    long t = 5;
    while (t < end) {
      long phaseEnd = Math.min(end, (t / phase + 1) * phase - MARGIN.toSeconds());
      if (phaseEnd - t < 4) { // too close to the switch: start again after it
        t = (t / phase + 1) * phase + 2;
        continue;
      }
      boolean vote = votePhase(t, phase);
      Kind kind = pick(random, vote, coordinatorLimit > 0, s.target());
      long hold = kind == Kind.COORDINATOR_PAUSE ? 2 + random.nextInt(4) : 3 + random.nextInt(8);
      long to = Math.min(t + hold, phaseEnd - (kind == Kind.LIE ? 1 : 0));
      long boundary = (t / phase + 1) * phase;
      Fault probe = new Fault(t, to, kind.word, "");
      long until = probe.busyUntil();
      if (to - t >= 2
          // a restarted or reconnected coordinator must answer by the switch, or it misses it
          && (!kind.onCoordinator() || until <= boundary)) {
        long from = t;
        long busyNodes = faults.stream().filter(f -> f.node() && f.overlaps(from, until)).count();
        long busyCoordinators =
            faults.stream().filter(f -> !f.node() && f.overlaps(from, until)).count();
        boolean room =
            kind.onCoordinator() ? busyCoordinators < coordinatorLimit : busyNodes < nodeLimit;
        if (kind == Kind.LIE) {
          // one liar at a time (two liars give the same wrong answer and can outvote the one
          // honest node of a vote of 3), and every coordinator up to take it back
          room &=
              faults.stream()
                  .noneMatch(
                      f ->
                          (f.kind().equals(Kind.LIE.word) && f.overlaps(from, until))
                              || (!f.node()
                                  && f.from() <= probe.readmitAt()
                                  && f.busyUntil() >= probe.readmitAt()));
        }
        if (kind.onCoordinator()) { // no coordinator broken when a liar is taken back
          room &= faults.stream().noneMatch(f -> f.readmitAt() >= from && f.readmitAt() <= until);
        }
        if (room) {
          List<String> free = new ArrayList<>();
          int count = kind.onCoordinator() ? s.coordinators() : s.nodes();
          String prefix = kind.onCoordinator() ? "coordinator-" : "node-";
          for (int i = kind.restarts ? 2 : 1; i <= count; i++) {
            String member = prefix + i;
            if (faults.stream()
                .noneMatch(f -> f.target().equals(member) && f.overlaps(from, until))) {
              free.add(member);
            }
          }
          if (!free.isEmpty()) {
            faults.add(new Fault(t, to, kind.word, free.get(random.nextInt(free.size()))));
          }
        }
      }
      t += 2 + random.nextInt(5);
    }
    return faults;
  }

  private static Kind pick(
      Random random, boolean vote, boolean coordinators, Scenario.Target target) {
    List<Kind> allowed = new ArrayList<>();
    for (Kind k : Kind.values()) {
      if ((k == Kind.LIE && !vote)
          || (k == Kind.COORDINATOR_KILL && vote)
          || (k.onCoordinator() && !coordinators)
          || (k.cuts() && target != Scenario.Target.COMPOSE)) {
        continue;
      }
      for (int i = 0; i < k.weight; i++) {
        allowed.add(k);
      }
    }
    return allowed.get(random.nextInt(allowed.size()));
  }

  private static Kind kind(String word) {
    for (Kind k : Kind.values()) {
      if (k.word.equals(word)) {
        return k;
      }
    }
    throw new IllegalArgumentException(word);
  }

  /** The faults counted by kind, in words: "12 kill, 3 pause, ...". */
  static String counts(List<Fault> faults) {
    Map<String, Integer> byKind = new TreeMap<>();
    faults.forEach(f -> byKind.merge(f.kind(), 1, Integer::sum));
    StringBuilder out = new StringBuilder();
    byKind.forEach(
        (k, n) -> out.append(out.length() == 0 ? "" : ", ").append(n).append(' ').append(k));
    return out.toString();
  }

  /** The scenario file of a soak. */
  static String yaml(Settings s) {
    List<Fault> faults = faults(s);
    long phase = phaseSeconds(s.duration());
    StringBuilder y = new StringBuilder();
    boolean compose = s.target() == Scenario.Target.COMPOSE;
    y.append(
        String.format(
            Locale.ROOT,
            "# Written by ftlab soak --seed %d --duration %s %s --rate %s; ftlab scenario run"
                + " THIS_FILE%s runs it again%n",
            s.seed(),
            seconds(s.duration().toSeconds()),
            compose
                ? "--target compose"
                : "--nodes " + s.nodes() + " --coordinators " + s.coordinators(),
            trim(s.rate()),
            compose ? " (with the lab's --compose and -c, if it needed them)" : ""));
    y.append(String.format(Locale.ROOT, "name: chaos soak, seed %d%n", s.seed()));
    y.append("description: |\n");
    y.append(
        String.format(
            Locale.ROOT,
            "  %d random faults (%s), each undone after 2 to 10 s, never more than %d node%s and"
                + " %d coordinator%s at once; the coordinators switch between failover and vote"
                + " (R=3) every %s; nodes lie only in vote phases; node-1 and coordinator-1 are"
                + " never restarted; the last %s is quiet.%s%n",
            faults.size(),
            counts(faults),
            s.nodes() - 3,
            s.nodes() - 3 == 1 ? "" : "s",
            s.coordinators() - 1,
            s.coordinators() - 1 == 1 ? "" : "s",
            seconds(phase),
            seconds(QUIET.toSeconds()),
            compose
                ? " On the compose lab: the docker verbs on the members' containers, and nodes and"
                    + " coordinators cut off the network and connected again under their names."
                : ""));
    if (compose) {
      y.append("target: compose\n");
    } else {
      y.append("target: local\n");
      y.append(
          String.format(
              Locale.ROOT,
              "cluster: {nodes: %d, coordinators: %d}%n",
              s.nodes(),
              s.coordinators()));
    }
    y.append(String.format(Locale.ROOT, "seed: %d%n", s.seed()));
    y.append(
        String.format(
            Locale.ROOT,
            "load: {rate: %s, concurrency: %d, task: mix}%n",
            trim(s.rate()),
            s.concurrency()));
    y.append(String.format(Locale.ROOT, "duration: %s%n", seconds(s.duration().toSeconds())));
    y.append("timeline:\n");
    List<String[]> lines = new ArrayList<>(); // {second, text}
    for (long p = 0; p * phase < s.duration().toSeconds() - QUIET.toSeconds(); p++) {
      String mode = p % 2 == 0 ? "failover" : "vote";
      lines.add(
          new String[] {
            String.valueOf(p * phase),
            String.format(
                Locale.ROOT,
                "{at: %s, do: mode, mode: %s%s, name: phase %d %s}",
                seconds(p * phase),
                mode,
                mode.equals("vote") ? ", replicas: 3" : "",
                p + 1,
                mode)
          });
    }
    int n = 0;
    for (Fault f : faults) {
      n++;
      Kind k = kind(f.kind());
      String breaks =
          k.breaks.startsWith("fault ")
              ? "do: fault, target: " + f.target() + ", fault: " + k.breaks.substring(6)
              : "do: " + k.breaks + ", target: " + f.target();
      if (k == Kind.SLOW) {
        breaks += ", delay: 300ms, fraction: 0.5";
      }
      lines.add(
          new String[] {
            String.valueOf(f.from()),
            String.format(
                Locale.ROOT,
                "{at: %s, %s, name: %d %s %s}",
                seconds(f.from()),
                breaks,
                n,
                f.kind(),
                f.target())
          });
      lines.add(
          new String[] {
            String.valueOf(f.to()),
            String.format(
                Locale.ROOT,
                "{at: %s, do: %s, target: %s, name: %d %s %s}",
                seconds(f.to()),
                k.mends,
                f.target(),
                n,
                k.mends,
                f.target())
          });
      if (k == Kind.LIE) {
        lines.add(
            new String[] {
              String.valueOf(f.to() + 1),
              String.format(
                  Locale.ROOT,
                  "{at: %s, do: readmit, target: %s, name: %d readmit %s}",
                  seconds(f.to() + 1),
                  f.target(),
                  n,
                  f.target())
            });
      }
    }
    lines.sort(Comparator.comparingLong(l -> Long.parseLong(l[0])));
    lines.forEach(l -> y.append("  - ").append(l[1]).append('\n'));
    y.append("expect:\n");
    y.append("  - lost: 0\n");
    y.append("  - failed: 0\n");
    y.append("  - wrong: 0\n");
    y.append("  - false deaths: 0\n");
    y.append(
        String.format(
            Locale.ROOT,
            "  - steady: {memory: 25%%, threads: 5, warmup: %s}%n",
            seconds(warmupSeconds(s.duration()))));
    y.append("  - settled: true\n");
    return y.toString();
  }

  private static String seconds(long s) {
    return s + "s";
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }
}
