package ftlab.client.scenario;

import ftlab.client.Coordinators;
import ftlab.client.Poll;
import ftlab.client.RedundancyOption;
import ftlab.client.scenario.Scenario.Action;
import ftlab.client.watch.Outcome;
import ftlab.client.watch.TaskMix;
import ftlab.client.watch.Watch;
import ftlab.proto.ClusterView;
import ftlab.proto.Faults;
import ftlab.proto.Lie;
import ftlab.proto.NodeView;
import ftlab.proto.Redundancy;
import ftlab.proto.Slow;
import io.grpc.ChannelCredentials;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A scenario's run, whatever its target: the checked load, the timeline at its offsets (each action
 * confirmed to have taken effect, beside the timeline), a recorder of every coordinator's
 * membership changes and of what its defences refused, the history written as it goes; then what
 * the timeline left broken undone and the checker's verdict. Ctrl-C does the undoing too. What a
 * target adds: how its cluster is reached (started, or found up), how an action is done to a member
 * and seen to take effect, and how it is undone ({@link LocalScenarioRun}: local processes and
 * signals; {@link ComposeScenarioRun}: the compose lab and docker).
 */
abstract class ScenarioRun {
  /** How long an action has to show its effect. */
  static final Duration CONFIRM = Duration.ofSeconds(10);

  final Scenario scenario;
  private final History.Writer history;
  final Consumer<String> say;
  private final RepeatedProblems problems;
  private final List<History.Event> events = new ArrayList<>();
  private final AtomicBoolean cleanedUp = new AtomicBoolean();

  /** Actions begun and not yet ended (seen to take effect, or not), with when each began. */
  private final Map<Action, Long> pending = new java.util.IdentityHashMap<>();

  private long startNanos;

  ScenarioRun(Scenario scenario, History.Writer history, Consumer<String> say) {
    this.scenario = scenario;
    this.history = history;
    this.say = say;
    this.problems = new RepeatedProblems(say);
  }

  /** How an action's effect is waited for: what showed it, or empty if nothing did in time. */
  interface Confirmation {
    Optional<String> await() throws InterruptedException;
  }

  /** Refuses, before anything starts, a timeline this target cannot do. */
  abstract void checkTimeline();

  /**
   * Starts or finds the cluster; returns the coordinators' addresses, as this process reaches them.
   */
  abstract List<String> prepare() throws InterruptedException;

  /** How this process speaks to the coordinators. */
  abstract ChannelCredentials credentials();

  /** Does an action that is not a mode switch; returns how to see that it took effect. */
  abstract Confirmation perform(Action a, Coordinators coordinators);

  /** Undoes what the timeline left broken; says what, one phrase each ("continued node-3"). */
  abstract List<String> undo();

  /** After the undoing: stop the cluster it started, or leave the lab up. */
  abstract void finish();

  /**
   * One look at every process of the cluster (memory, threads), for the {@code steady} expectation;
   * none where the target cannot see its processes.
   */
  List<History.Sample> sample(long atMs) {
    return List.of();
  }

  /** How often the processes are sampled, when the scenario expects them steady. */
  static final Duration SAMPLE_EVERY = Duration.ofSeconds(3);

  final Checker.Report run() throws InterruptedException {
    checkTimeline();
    Thread onCtrlC = new Thread(this::cleanUp, "scenario-clean-up");
    Runtime.getRuntime().addShutdownHook(onCtrlC);
    try {
      List<String> addresses = prepare();
      try (Coordinators coordinators = new Coordinators(addresses, credentials())) {
        runLoadAndTimeline(coordinators);
      }
    } finally {
      cleanUp();
      try {
        Runtime.getRuntime().removeShutdownHook(onCtrlC);
      } catch (IllegalStateException e) {
        // shutting down already: the hook is running
      }
    }
    synchronized (events) {
      return Checker.check(scenario, List.copyOf(events));
    }
  }

  private void runLoadAndTimeline(Coordinators coordinators) throws InterruptedException {
    Watch.Settings settings =
        new Watch.Settings(
            scenario.load().rate(),
            scenario.load().concurrency(),
            scenario.duration(),
            0,
            Duration.ofSeconds(2),
            Duration.ofSeconds(10),
            new TaskMix(scenario.load().task(), scenario.seed(), 20_000, scenario.load().echoMs()),
            scenario
                .load()
                .mode()
                .map(m -> RedundancyOption.parse(m, scenario.load().replicas()))
                .orElse(Redundancy.getDefaultInstance()));
    Watch watch = new Watch(coordinators, settings);
    coordinators.connect(Coordinators.CONNECT_FIRST);
    startNanos = System.nanoTime();
    Recorder recorder = new Recorder(coordinators);
    Thread recording = new Thread(recorder, "scenario-recorder");
    recording.setDaemon(true);
    recording.start();
    java.util.concurrent.ScheduledExecutorService sampler =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "scenario-sampler");
              t.setDaemon(true);
              return t;
            });
    if (scenario.expectations().stream().anyMatch(x -> x instanceof Scenario.Steady)) {
      sampler.scheduleAtFixedRate(
          () -> {
            try {
              sample(nowMs()).forEach(this::record);
            } catch (RuntimeException e) {
              say.accept("could not sample the processes: " + e.getMessage());
            }
          },
          0,
          SAMPLE_EVERY.toMillis(),
          TimeUnit.MILLISECONDS);
    }
    Thread load =
        new Thread(
            () -> {
              try {
                watch.run(
                    this::record,
                    s -> {
                      problems.flush();
                      say.accept(progress(s));
                    },
                    Duration.ofSeconds(5));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "scenario-load");
    load.start();
    say.accept(
        "load started: "
            + (settings.rate() > 0 ? settings.rate() + " requests/s" : "as fast as it can")
            + " for "
            + Durations.words(scenario.duration()));
    java.util.concurrent.ExecutorService confirmers =
        java.util.concurrent.Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "scenario-confirm");
              t.setDaemon(true);
              return t;
            });
    try {
      for (Action a : scenario.timeline()) {
        long due = startNanos + a.at().toNanos();
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
        apply(a, coordinators, confirmers);
      }
      load.join(scenario.duration().toMillis() + 15_000);
    } finally {
      watch.stop();
      load.join(5_000); // its last outcomes, before the repeats are counted out
      sampler.shutdownNow(); // no sample after the load's end
      sampler.awaitTermination(2, TimeUnit.SECONDS);
      try {
        record(new History.Load(null, nowMs(), watch.sent()));
      } catch (UncheckedIOException e) {
        say.accept(e.getMessage());
      }
      problems.flush();
      confirmers.shutdown();
      confirmers.awaitTermination(CONFIRM.toMillis() + 2_000, TimeUnit.MILLISECONDS);
      // an action still under way is recorded as not seen to take effect: it fails the verdict,
      // and a late end (after the history is closed) is ignored
      Map<Action, Long> late;
      synchronized (pending) {
        late = new HashMap<>(pending);
      }
      late.forEach((a, at) -> ended(a, at, -1, "its effect was not seen before the run ended"));
      recorder.stop();
      recording.join(4_000); // its last look asks each coordinator once more (1 s at most)
    }
  }

  private static String progress(ftlab.client.watch.Summary s) {
    return String.format(
        "-- last %.0f s: %d ok, %d failed, %d wrong | p50 %.1f ms  p99 %.1f ms",
        s.durationS(), s.ok(), s.failed(), s.wrong(), s.p50Ms(), s.p99Ms());
  }

  private long nowMs() {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  private void record(History.Event e) {
    synchronized (events) {
      events.add(e);
    }
    try {
      history.record(e);
    } catch (IOException x) {
      throw new UncheckedIOException("could not write the history: " + x.getMessage(), x);
    }
  }

  private void record(Outcome o) {
    Scenario.Outcome outcome =
        o.failed()
            ? Scenario.Outcome.FAILED
            : o.ok() ? Scenario.Outcome.OK : Scenario.Outcome.WRONG;
    long sentMs = (o.sentNanos() - startNanos) / 1_000_000;
    record(
        new History.Request(
            null,
            o.id(),
            sentMs,
            sentMs + o.latencyNanos() / 1_000_000,
            outcome,
            o.failed() ? "" : o.answer().getNodeId(),
            o.failed() ? "" : o.answer().getCoordinatorId(),
            o.failed() ? 0 : o.answer().getAttemptsCount(),
            o.failed(), // the client gave up: the work may have run
            o.failed() ? o.error() : "",
            o.failed() || o.answer().getTallyCount() == 0 ? null : voters(o.answer(), false),
            o.failed() || o.answer().getTallyCount() == 0 ? null : voters(o.answer(), true)));
    if (!o.ok()) {
      String reason = o.failed() ? o.error() : "answered by " + o.answer().getNodeId();
      problems.problem(
          o.id(),
          outcome.word() + " " + reason,
          String.format(
              "#%d %s (sent at %.1f s): %s",
              o.id(), outcome.word().toUpperCase(java.util.Locale.ROOT), sentMs / 1e3, reason));
    }
  }

  /**
   * The nodes whose votes the coordinator counted for an answer, or only those the majority
   * overruled (every ballot but the one answered).
   */
  private static List<String> voters(ftlab.proto.Answer answer, boolean outvotedOnly) {
    List<String> nodes = new ArrayList<>();
    for (ftlab.proto.Ballot b : answer.getTallyList()) {
      if (!outvotedOnly || !b.getResult().equals(answer.getResult())) {
        nodes.addAll(b.getNodeIdsList());
      }
    }
    return nodes;
  }

  /**
   * Applies one action now, on the timeline's thread, and waits for its effect on another
   * (bounded), so that a slow confirmation does not delay the actions after it; records it once
   * confirmed.
   */
  private void apply(
      Action a, Coordinators coordinators, java.util.concurrent.Executor confirmers) {
    long at = nowMs();
    synchronized (pending) {
      pending.put(a, at);
    }
    Confirmation confirmation;
    try {
      confirmation = act(a, coordinators);
    } catch (RuntimeException e) {
      ended(a, at, -1, e.getMessage() == null ? e.toString() : e.getMessage());
      return;
    }
    confirmers.execute(
        () -> {
          try {
            Optional<String> effect = confirmation.await();
            ended(
                a,
                at,
                effect.isPresent() ? nowMs() : -1,
                effect.orElse("no effect seen within " + Durations.words(CONFIRM)));
          } catch (InterruptedException e) {
            ended(a, at, -1, "interrupted while waiting for its effect");
          } catch (RuntimeException e) {
            ended(a, at, -1, e.getMessage() == null ? e.toString() : e.getMessage());
          }
        });
  }

  private void ended(Action a, long at, long confirmed, String detail) {
    synchronized (pending) {
      if (pending.remove(a) == null) {
        return; // ended already (given up at the end of the run)
      }
    }
    record(
        new History.Action(
            null, a.name(), a.verb().word(), a.target(), a.at().toMillis(), at, confirmed, detail));
    long late = at - a.at().toMillis();
    say.accept(
        String.format(
            "at %.1f s%s: %s: %s",
            at / 1e3,
            late >= 500 ? " (" + late + " ms late)" : "",
            a.describe(),
            confirmed < 0
                ? "DID NOT TAKE EFFECT: " + detail
                : a.verb() == Scenario.Verb.ATTACK // refused or not: the attack was made
                    ? "tried, and seen after " + (confirmed - at) + " ms: " + detail
                    : "took effect after " + (confirmed - at) + " ms (" + detail + ")"));
  }

  /**
   * The action, done: a mode switch or a revocation here (through the coordinators, the same for
   * every target), the rest by the target.
   */
  private Confirmation act(Action a, Coordinators coordinators) {
    if (a.verb() == Scenario.Verb.REVOKE || a.verb() == Scenario.Verb.UNREVOKE) {
      return revoke(a, coordinators);
    }
    if (a.verb() == Scenario.Verb.READMIT) {
      return readmit(a, coordinators);
    }
    if (a.verb() != Scenario.Verb.MODE) {
      return perform(a, coordinators);
    }
    Redundancy r =
        RedundancyOption.parse(
            a.args().get("mode"), Integer.parseInt(a.args().getOrDefault("replicas", "0")));
    List<Integer> told = new ArrayList<>();
    for (int i = 0; i < coordinators.size(); i++) {
      try {
        coordinators.setRedundancy(i, r);
        told.add(i);
      } catch (StatusRuntimeException e) {
        // a coordinator the timeline stopped: the others are switched
      }
    }
    if (told.isEmpty()) {
      throw new IllegalStateException("no coordinator answered");
    }
    // a coordinator the timeline stopped since is not waited for
    return () ->
        seenAtEach(
            coordinators,
            told,
            v -> v.getRedundancy().getMode() == r.getMode(),
            true,
            "in mode " + a.args().get("mode"));
  }

  /**
   * Until the view of each coordinator that was told shows the effect; {@code silentSeen}: a
   * coordinator that does not answer counts as seen. Says "N of M coordinators WORDS".
   */
  private static Optional<String> seenAtEach(
      Coordinators coordinators,
      List<Integer> told,
      java.util.function.Predicate<ClusterView> shows,
      boolean silentSeen,
      String words)
      throws InterruptedException {
    return Poll.until(
        CONFIRM,
        Duration.ofMillis(50),
        () -> {
          for (int i : told) {
            if (!view(coordinators, i).map(shows::test).orElse(silentSeen)) {
              return Optional.empty();
            }
          }
          return Optional.of(told.size() + " of " + coordinators.size() + " coordinators " + words);
        });
  }

  /**
   * {@code ftlab revoke NAME} (or {@code --undo}) at every coordinator that answers; seen when each
   * of them lists the name as revoked (or no longer).
   */
  private Confirmation revoke(Action a, Coordinators coordinators) {
    boolean undo = a.verb() == Scenario.Verb.UNREVOKE;
    List<Integer> told = atEach(coordinators, i -> coordinators.revoke(i, a.target(), undo), null);
    return () ->
        seenAtEach(
            coordinators,
            told,
            v -> v.getSecurity().getRevokedList().contains(a.target()) != undo,
            false,
            (undo ? "no longer list " : "list ") + a.target() + " as revoked");
  }

  /**
   * {@code ftlab readmit NODE} at every coordinator that answers (one where the node is not
   * QUARANTINED says so, and that is fine); seen when none of them has it QUARANTINED.
   */
  private Confirmation readmit(Action a, Coordinators coordinators) {
    List<Integer> told =
        atEach(
            coordinators,
            i -> coordinators.readmit(i, a.target()),
            io.grpc.Status.Code.FAILED_PRECONDITION); // not quarantined there
    return () ->
        seenAtEach(
            coordinators,
            told,
            v ->
                v.getNodesList().stream()
                    .noneMatch(
                        n ->
                            n.getNodeId().equals(a.target())
                                && n.getState() == ftlab.proto.NodeState.QUARANTINED),
            true,
            "do not have " + a.target() + " QUARANTINED");
  }

  /**
   * Makes a call at every coordinator; returns those that did it, or refused it with {@code
   * doneAnyway} (null: none); throws, with each refusal, if none did.
   */
  private static List<Integer> atEach(
      Coordinators coordinators,
      java.util.function.IntConsumer call,
      io.grpc.Status.Code doneAnyway) {
    List<Integer> told = new ArrayList<>();
    List<String> refusals = new ArrayList<>();
    for (int i = 0; i < coordinators.size(); i++) {
      try {
        call.accept(i);
        told.add(i);
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() == doneAnyway) {
          told.add(i);
        } else {
          refusals.add(coordinators.address(i) + ": " + Coordinators.explain(e));
        }
      }
    }
    if (told.isEmpty()) {
      throw new IllegalStateException("no coordinator did it: " + String.join("; ", refusals));
    }
    return told;
  }

  /** The faults an in-app fault action sets ({@code fault: slow, delay_ms: 200, fraction: 0.5}). */
  static Faults faults(Action a) {
    String kind = a.args().get("fault");
    double fraction = Double.parseDouble(a.args().getOrDefault("fraction", "1"));
    return switch (kind) {
      case "freeze" -> Faults.newBuilder().setFreeze(true).build();
      case "mute" -> Faults.newBuilder().setMuteHeartbeats(true).build();
      case "slow" ->
          Faults.newBuilder()
              .setSlow(
                  Slow.newBuilder()
                      .setDelayMs(Integer.parseInt(a.args().getOrDefault("delay_ms", "200")))
                      .setFraction(fraction))
              .build();
      case "lie" -> Faults.newBuilder().setLie(Lie.newBuilder().setFraction(fraction)).build();
      default -> throw new IllegalArgumentException("no such fault: " + kind);
    };
  }

  /**
   * Until every coordinator that answers shows the node's faults as these (they come in
   * heartbeats); one the timeline stopped is not waited for, but one must answer.
   */
  final Optional<String> faultsSeen(Coordinators coordinators, String node, Faults faults)
      throws InterruptedException {
    return Poll.until(
        CONFIRM,
        Duration.ofMillis(50),
        () -> {
          int answered = 0;
          for (int i = 0; i < coordinators.size(); i++) {
            Optional<ClusterView> v = view(coordinators, i);
            if (v.isEmpty()) {
              continue;
            }
            answered++;
            Optional<NodeView> n =
                v.get().getNodesList().stream().filter(x -> x.getNodeId().equals(node)).findFirst();
            if (n.isEmpty() || !n.get().getFaults().equals(faults)) {
              return Optional.empty();
            }
          }
          return answered == 0
              ? Optional.empty()
              : Optional.of(
                  "the view of "
                      + answered
                      + " of "
                      + coordinators.size()
                      + " coordinators shows it (heartbeats)");
        });
  }

  /** A coordinator's refusals so far, by layer, the membership's guards as "guards". */
  static Map<String, Long> refusedCounts(ClusterView v) {
    Map<String, Long> counts = new java.util.TreeMap<>(v.getSecurity().getRefusedMap());
    counts.put("guards", v.getHeartbeatsRefused());
    return counts;
  }

  /**
   * The refusals counted between two looks at one coordinator, by layer (only those that rose); a
   * count that fell means the coordinator restarted and counts from 0 again.
   */
  static Map<String, Long> refusedSince(Map<String, Long> before, Map<String, Long> now) {
    Map<String, Long> more = new java.util.TreeMap<>();
    now.forEach(
        (layer, n) -> {
          long was = before.getOrDefault(layer, 0L);
          long rose = n >= was ? n - was : n;
          if (rose > 0) {
            more.put(layer, rose);
          }
        });
    return more;
  }

  static Optional<ClusterView> view(Coordinators coordinators, int i) {
    try {
      return Optional.of(coordinators.view(i, 1_000));
    } catch (StatusRuntimeException e) {
      return Optional.empty();
    }
  }

  /** Undoes, stops or leaves: once, whatever happened (the end, a failure, Ctrl-C). */
  private void cleanUp() {
    problems.flush(); // Ctrl-C: the repeats said so far are not lost
    if (!cleanedUp.compareAndSet(false, true)) {
      return;
    }
    List<String> undone = undo();
    if (!undone.isEmpty()) {
      say.accept("undone: " + String.join(", ", undone));
    }
    finish();
  }

  /**
   * Every coordinator's view, polled: each node's change of state is recorded with the time the
   * coordinator says it happened (its age in the view), so a 100 ms poll does not blur the times. A
   * change that came and went between two polls is not seen.
   */
  private final class Recorder implements Runnable {
    private final Coordinators coordinators;
    private final Map<String, Map<String, String>> last = new HashMap<>();

    /** Each coordinator's refusal counts by layer at the last look. */
    private final Map<String, Map<String, Long>> refusedBefore = new HashMap<>();

    /** Refusals said once per coordinator and layer ("coordinator-1/identity"). */
    private final java.util.Set<String> refusalsSaid = new java.util.HashSet<>();

    private volatile boolean stopped;

    Recorder(Coordinators coordinators) {
      this.coordinators = coordinators;
    }

    void stop() {
      stopped = true;
    }

    @Override
    public void run() {
      while (true) {
        boolean lastLook = stopped; // one more look after the stop: the run's last refusals
        for (int i = 0; i < coordinators.size(); i++) {
          Optional<ClusterView> v = view(coordinators, i);
          if (v.isEmpty()) {
            continue;
          }
          long now = nowMs();
          boolean firstLook = !last.containsKey(v.get().getCoordinatorId());
          Map<String, String> states =
              last.computeIfAbsent(v.get().getCoordinatorId(), c -> new HashMap<>());
          for (NodeView n : v.get().getNodesList()) {
            String state = n.getState().name();
            String before = states.put(n.getNodeId(), state);
            if (!state.equals(before)) {
              record(
                  new History.Transition(
                      null,
                      now - n.getSinceTransitionMs(),
                      v.get().getCoordinatorId(),
                      n.getNodeId(),
                      before == null ? "" : before,
                      state,
                      n.getLastTransitionReason()));
              if (before == null && !firstLook) { // a node new to this coordinator: joined
                say.accept(
                    String.format(
                        "%s: %s joined as %s (%s)",
                        v.get().getCoordinatorId(),
                        n.getNodeId(),
                        state,
                        n.getLastTransitionReason()));
              } else if (before != null) {
                say.accept(
                    String.format(
                        "%s: %s %s -> %s (%s)",
                        v.get().getCoordinatorId(),
                        n.getNodeId(),
                        before,
                        state,
                        n.getLastTransitionReason()));
              }
            }
          }
          refusals(v.get(), now);
        }
        if (lastLook) {
          return;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    /**
     * What a coordinator's defences refused since the last look, by layer (the membership's guards
     * as "guards"); the first look is the baseline. The first refusal by each layer at each
     * coordinator is said, the rest only recorded (a revoked node's beats come 10 a second).
     */
    private void refusals(ClusterView v, long now) {
      Map<String, Long> counts = refusedCounts(v);
      Map<String, Long> before = refusedBefore.put(v.getCoordinatorId(), counts);
      if (before == null) {
        return;
      }
      for (Map.Entry<String, Long> c : refusedSince(before, counts).entrySet()) {
        long more = c.getValue();
        String latest =
            c.getKey().equals("guards")
                ? v.getLastGuardEvent()
                : v.getSecurity().getLastRefusal().startsWith(c.getKey() + " ")
                    ? v.getSecurity().getLastRefusal()
                    : "";
        record(new History.Refusal(null, now, v.getCoordinatorId(), c.getKey(), more, latest));
        if (refusalsSaid.add(v.getCoordinatorId() + "/" + c.getKey())) {
          say.accept(
              String.format(
                  "%s: refused by %s%s",
                  v.getCoordinatorId(), c.getKey(), latest.isEmpty() ? "" : " (" + latest + ")"));
        }
      }
    }
  }
}
