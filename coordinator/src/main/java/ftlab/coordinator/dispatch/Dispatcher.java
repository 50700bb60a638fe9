package ftlab.coordinator.dispatch;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.NodeSnapshot;
import ftlab.proto.Answer;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptKind;
import ftlab.proto.ComputeRequest;
import ftlab.proto.ComputeResponse;
import ftlab.proto.Failures;
import ftlab.proto.RedundancyMode;
import ftlab.proto.SubmitRequest;
import ftlab.proto.TaskResult;
import ftlab.task.Tasks;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Runs one request on the cluster in a {@link Redundancy} mode: pick live nodes, give every attempt
 * a deadline, and when an attempt fails in a way that another node could fix, try a different node,
 * until the request's own deadline. See docs/architecture.md ("Dispatch with failover") and
 * docs/redundancy.md.
 *
 * <p>Retrying and running a task twice are always safe here because tasks are deterministic and
 * have no side effects: an attempt that timed out may or may not have run on its node (an
 * indefinite failure), but running it again elsewhere cannot do anything twice.
 */
public final class Dispatcher {

  /**
   * Failures another node could fix. Anything else (INVALID_ARGUMENT, INTERNAL...) would fail the
   * same way everywhere, so in failover and hedged modes it goes straight back to the client; in
   * parallel and vote modes it only costs that one replica.
   */
  static final Set<Status.Code> RETRYABLE =
      EnumSet.of(
          Status.Code.UNAVAILABLE, // refused, reset, or the node is draining: the task did not run
          Status.Code.DEADLINE_EXCEEDED, // the attempt timed out: the node is frozen or overloaded
          Status.Code.RESOURCE_EXHAUSTED); // the node is at capacity: the task did not run

  /**
   * Failures that are evidence against the node (it may be down), reported to the failure detector
   * so it does not wait for heartbeats to time out. A node at capacity is busy, not failing; and an
   * error the node sent itself (marked with {@link Failures#ANSWERED_BY}, e.g. "draining") proves
   * it is up, so it is never evidence whatever its code.
   */
  static final Set<Status.Code> EVIDENCE =
      EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED);

  /**
   * @param attemptTimeout an attempt's deadline beyond the task's own expected duration ({@link
   *     Tasks#expectedMillis}); it bounds how long a frozen node can hold a request
   * @param requestTimeout the request's deadline when the client set none
   * @param roundBackoff the pause before trying every node again when all of them failed (for
   *     example all at capacity); doubles each round
   * @param hedging when hedged mode sends a second attempt, and how often it may
   */
  public record Settings(
      Duration attemptTimeout,
      Duration requestTimeout,
      Duration roundBackoff,
      HedgePolicy hedging) {
    public static final Settings DEFAULT =
        new Settings(
            Duration.ofMillis(300),
            Duration.ofSeconds(10),
            Duration.ofMillis(10),
            HedgePolicy.DEFAULT);

    public Settings(Duration attemptTimeout, Duration requestTimeout, Duration roundBackoff) {
      this(attemptTimeout, requestTimeout, roundBackoff, HedgePolicy.DEFAULT);
    }

    public Settings {
      if (roundBackoff.toMillis() < 1) {
        throw new IllegalArgumentException(
            "round backoff must be at least 1 ms, got " + roundBackoff.toMillis() + " ms");
      }
      if (attemptTimeout.toMillis() < 1) {
        throw new IllegalArgumentException(
            "attempt timeout must be at least 1 ms, got " + attemptTimeout.toMillis() + " ms");
      }
      if (requestTimeout.compareTo(attemptTimeout) < 0) {
        throw new IllegalArgumentException(
            "request timeout ("
                + requestTimeout.toMillis()
                + " ms) must not be shorter than the attempt timeout ("
                + attemptTimeout.toMillis()
                + " ms)");
      }
    }

    public Settings withHedging(HedgePolicy h) {
      return new Settings(attemptTimeout, requestTimeout, roundBackoff, h);
    }
  }

  private final String coordinatorId;
  private final Cluster cluster;
  private final NodePicker picker;
  private final NodeCaller caller;
  private final Settings settings;
  private final LongSupplier nanoClock;
  private final Scheduler scheduler;
  private final HedgePolicy.State hedging;
  private final NodeSpeeds speeds = new NodeSpeeds();

  /** The coordinator's mode, for every request that does not choose its own. */
  private volatile Redundancy redundancy = Redundancy.FAILOVER;

  /**
   * @param scheduler runs hedges and the next round after a pause, when every node failed
   */
  public Dispatcher(
      String coordinatorId,
      Cluster cluster,
      NodePicker picker,
      NodeCaller caller,
      Settings settings,
      LongSupplier nanoClock,
      Scheduler scheduler) {
    this.coordinatorId = coordinatorId;
    this.cluster = cluster;
    this.picker = picker;
    this.caller = caller;
    this.settings = settings;
    this.nanoClock = nanoClock;
    this.scheduler = scheduler;
    this.hedging = settings.hedging().newState();
  }

  public Dispatcher(
      String coordinatorId,
      Cluster cluster,
      NodePicker picker,
      NodeCaller caller,
      Settings settings,
      LongSupplier nanoClock,
      ScheduledExecutorService timer) {
    this(coordinatorId, cluster, picker, caller, settings, nanoClock, Scheduler.of(timer));
  }

  /** The mode for requests that do not choose their own. */
  public Redundancy redundancy() {
    return redundancy;
  }

  /** Switches the mode for every request from now on (requests already running keep theirs). */
  public void setRedundancy(Redundancy r) {
    this.redundancy = r;
  }

  /** The hedge delay and budget, as they are now. */
  public HedgePolicy.State hedging() {
    return hedging;
  }

  /**
   * Runs the request and waits for its answer: for callers that may block (tests, tools). The
   * coordinator's gRPC service uses {@link #dispatch(SubmitRequest, StreamObserver)}.
   *
   * @throws StatusRuntimeException INVALID_ARGUMENT for a bad task; UNAVAILABLE when no node could
   *     answer (the description lists why, node by node); ABORTED when a vote found no majority;
   *     DEADLINE_EXCEEDED when the request's deadline passed; CANCELLED when the client gave up; or
   *     a node's own non-retryable error
   */
  public Answer dispatch(SubmitRequest request) {
    CompletableFuture<Answer> answer = submit(request);
    try {
      return answer.get();
    } catch (ExecutionException e) {
      throw Status.fromThrowable(e.getCause()).asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    }
  }

  /**
   * Starts the request and returns at once; the future completes with the answer, or fails with the
   * error's {@link io.grpc.StatusException}. For tests and tools that want to act while it runs.
   */
  public CompletableFuture<Answer> submit(SubmitRequest request) {
    CompletableFuture<Answer> answer = new CompletableFuture<>();
    dispatch(
        request,
        new StreamObserver<>() {
          @Override
          public void onNext(Answer a) {
            answer.complete(a);
          }

          @Override
          public void onError(Throwable t) {
            answer.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {}
        });
    return answer;
  }

  /**
   * Starts the request and returns at once; the answer with its provenance, or the error, goes to
   * {@code responses}. Nothing here blocks: each attempt's result arrives as a callback, which
   * answers, or starts another attempt, or waits for the others. So the coordinator needs no thread
   * per request, and the gRPC server can run it on its network threads.
   */
  public void dispatch(SubmitRequest request, StreamObserver<Answer> responses) {
    Optional<String> problem = Tasks.problem(request.getTask());
    if (problem.isPresent()) {
      responses.onError(Status.INVALID_ARGUMENT.withDescription(problem.get()).asException());
      return;
    }
    Redundancy r = redundancy;
    if (request.hasRedundancy()
        && request.getRedundancy().getMode() != RedundancyMode.REDUNDANCY_MODE_UNSPECIFIED) {
      try {
        r = Redundancy.fromProto(request.getRedundancy());
      } catch (IllegalArgumentException e) {
        responses.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException());
        return;
      }
    }
    if (r.mode() == RedundancyMode.HEDGED) {
      hedging.onRequest(); // only requests that may hedge earn hedges
    }
    new Run(request, responses, Context.current(), r).start();
  }

  /** One attempt on one node, from its start to its end. Guarded by its {@link Run}'s lock. */
  private static final class Flight {
    final Candidate node;
    final long timeoutNanos;
    final long startNanos;
    final Attempt.Builder record;
    ListenableFuture<ComputeResponse> call;

    /** Ended: answered, failed, or cancelled by the run. A later callback is ignored. */
    boolean over;

    /** Its call is being made or was made: from then on, the task may have run on the node. */
    boolean launched;

    /**
     * A cancelled flight's load was taken off the node's in-flight count. Whoever cancels its call
     * (the run, or the launch that finds the run over) does it, exactly once.
     */
    boolean released;

    Flight(Candidate node, AttemptKind kind, long timeoutNanos, long startNanos, long runStart) {
      this.node = node;
      this.timeoutNanos = timeoutNanos;
      this.startNanos = startNanos;
      this.record =
          Attempt.newBuilder()
              .setNodeId(node.nodeId())
              .setKind(kind)
              .setDeadlineMs(TimeUnit.NANOSECONDS.toMillis(timeoutNanos))
              .setStartedMicros((startNanos - runStart) / 1_000);
    }
  }

  /**
   * What a decision taken under the run's lock leaves to do after it is released, in this order:
   * bookkeeping (load counters, evidence for the failure detector, votes), cancelling attempts,
   * starting attempts (network calls, whose answers may come back at once, on this thread), then
   * the rest (answering the client, scheduling the next round). Bookkeeping goes first so that
   * whoever gets the answer sees the cluster as it was when the answer was decided.
   */
  private static final class Work {
    final List<Runnable> first = new ArrayList<>();
    final List<Flight> cancel = new ArrayList<>();
    final List<Flight> start = new ArrayList<>();
    final List<Runnable> then = new ArrayList<>();
  }

  /**
   * One request, from its first attempt to its answer.
   *
   * <p>Several attempts may be in flight at once (hedged, parallel, vote), and their callbacks
   * arrive on gRPC's threads, the hedge on the scheduler's: every event takes the run's lock,
   * decides, and does its network calls after releasing it.
   */
  private final class Run {
    private final SubmitRequest request;
    private final StreamObserver<Answer> responses;
    private final Context context;
    private final Deadline deadline;
    private final ComputeRequest work;
    private final Redundancy redundancy;
    private final long startNanos = nanoClock.getAsLong();
    private final long expectedNanos;

    /**
     * An attempt's deadline: the attempt timeout plus the task's own expected duration, so that a
     * long task is not mistaken for a frozen node.
     */
    private final long attemptBudgetNanos;

    // guarded by this
    private final List<Flight> flights = new ArrayList<>();
    private final Set<String> tried = new HashSet<>();
    private final VoteTally tally = new VoteTally();
    private long backoffNanos = settings.roundBackoff().toNanos();
    private boolean hedged;

    /** The hedge, once started: a second attempt is wanted only while it runs. */
    private Flight hedgeFlight;

    /** The last error a node returned that every node would repeat (INTERNAL...), if any. */
    private Status lastFatal;

    /** Nodes that returned such an error: not tried again for this request. */
    private final Set<String> refused = new HashSet<>();

    private boolean roundPending;
    private boolean done;
    private Scheduler.Cancellable hedgeTimer;

    Run(
        SubmitRequest request,
        StreamObserver<Answer> responses,
        Context context,
        Redundancy redundancy) {
      this.request = request;
      this.responses = responses;
      this.context = context;
      this.redundancy = redundancy;
      this.deadline =
          context.getDeadline() != null
              ? context.getDeadline()
              : Deadline.after(settings.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
      this.expectedNanos = TimeUnit.MILLISECONDS.toNanos(Tasks.expectedMillis(request.getTask()));
      this.attemptBudgetNanos = settings.attemptTimeout().toNanos() + expectedNanos;
      this.work =
          ComputeRequest.newBuilder()
              .setRequestId(request.getRequestId())
              .setTask(request.getTask())
              .build();
    }

    void start() {
      Work w = new Work();
      boolean hedgeLater;
      synchronized (this) {
        long able = candidates().size();
        if (redundancy.mode() == RedundancyMode.VOTE && able < redundancy.majority()) {
          finish(
              w,
              Status.UNAVAILABLE.withDescription(
                  redundancy.describe()
                      + " needs "
                      + redundancy.majority()
                      + " nodes that agree, and only "
                      + able
                      + " node(s) can get work; "
                      + whyNoNode()));
        } else {
          decide(w, firstKind());
        }
        hedgeLater = redundancy.mode() == RedundancyMode.HEDGED && !done;
      }
      if (hedgeLater) {
        Optional<Scheduler.Cancellable> timer =
            later(this::hedge, hedging.delayNanos(expectedNanos));
        synchronized (this) {
          hedgeTimer = timer.orElse(null);
          if (done && hedgeTimer != null) {
            hedgeTimer.cancel(); // answered while the timer was being set
          }
        }
      }
      act(w);
    }

    /**
     * Schedules {@code task}, or says it could not: the scheduler refuses once the coordinator is
     * shutting down.
     */
    private Optional<Scheduler.Cancellable> later(Runnable task, long delayNanos) {
      try {
        return Optional.of(scheduler.schedule(task, delayNanos));
      } catch (RuntimeException e) {
        return Optional.empty();
      }
    }

    private AttemptKind firstKind() {
      return switch (redundancy.mode()) {
        case PARALLEL -> AttemptKind.PARALLEL_REPLICA;
        case VOTE -> AttemptKind.VOTE_REPLICA;
        default -> AttemptKind.PRIMARY;
      };
    }

    /** How many attempts this request wants in flight now. */
    private int wanted() {
      return switch (redundancy.mode()) {
        case HEDGED -> hedgeFlight != null && !hedgeFlight.over ? 2 : 1;
        case PARALLEL -> redundancy.replicas();
        case VOTE -> redundancy.replicas() - tally.votes(); // each node votes once
        default -> 1;
      };
    }

    private int running() {
      int n = 0;
      for (Flight f : flights) {
        if (!f.over) {
          n++;
        }
      }
      return n;
    }

    /**
     * The heart of it, under the lock: give up, or fill up to the attempts wanted, or wait for a
     * new round. {@code kind} is what a new attempt started now would be.
     */
    private void decide(Work w, AttemptKind kind) {
      if (done) {
        return;
      }
      // The deadline first: gRPC also cancels a context when its deadline passes, and that is
      // running out of time (DEADLINE_EXCEEDED), not the client giving up (CANCELLED).
      long remaining = deadline.timeRemaining(TimeUnit.NANOSECONDS);
      if (remaining <= 0) {
        finish(
            w,
            Status.DEADLINE_EXCEEDED.withDescription(
                "the request's deadline passed; " + summarize()));
        return;
      }
      if (context.isCancelled()) {
        finish(
            w,
            Status.CANCELLED.withDescription(
                "the client cancelled the request after " + flights.size() + " attempt(s)"));
        return;
      }
      List<Candidate> candidates = candidates();
      candidates.removeIf(c -> refused.contains(c.nodeId()));
      int want = kind == AttemptKind.HEDGE ? 2 : wanted();
      while (running() < want) {
        Optional<Candidate> picked = picker.pick(candidates, tried);
        if (picked.isEmpty()) {
          break;
        }
        tried.add(picked.get().nodeId());
        Flight f =
            new Flight(
                picked.get(),
                kind,
                Math.min(remaining, attemptBudgetNanos),
                nanoClock.getAsLong(),
                startNanos);
        flights.add(f);
        w.start.add(f);
      }
      if (redundancy.mode() == RedundancyMode.VOTE && tally.votes() > 0) {
        // Every replica voted and no result has a majority; or the votes still to come, even if
        // all agreed with the leading result, could not make it a majority.
        boolean allVoted = wanted() == 0 && running() == 0;
        int possible = tally.leaderCount() + running() + idleNonVoters(candidates);
        if (allVoted || possible < redundancy.majority()) {
          noMajority(w);
          return;
        }
      }
      if (running() > 0 || roundPending) {
        return; // wait for the attempts in flight, or the next round
      }
      // Nothing in flight and no node left to try in this round.
      if (!untriedAtAll(candidates).isEmpty() && remaining > backoffNanos) {
        // Every live node was tried and failed. Some failures pass (a node at capacity, a
        // reconnect); pause briefly and start a new round.
        long pause = backoffNanos;
        long cap = Math.max(settings.roundBackoff().toNanos(), TimeUnit.MILLISECONDS.toNanos(200));
        backoffNanos = Math.min(backoffNanos * 2, cap);
        roundPending = true;
        w.then.add(
            () -> {
              if (later(this::nextRound, pause).isEmpty()) {
                stopped(); // the coordinator is shutting down
              }
            });
        return;
      }
      if (redundancy.mode() == RedundancyMode.VOTE && tally.votes() > 0) {
        noMajority(w);
        return;
      }
      if (lastFatal != null) {
        finish(w, lastFatal); // every node that could answer failed in a way none could fix
        return;
      }
      finish(w, Status.UNAVAILABLE.withDescription(whyNoNode()));
    }

    /** Nodes that could still vote: not voted yet and not voting right now. */
    private int idleNonVoters(List<Candidate> candidates) {
      Set<String> busy = new HashSet<>(tally.voters());
      for (Flight f : flights) {
        if (!f.over) {
          busy.add(f.node.nodeId());
        }
      }
      return (int) candidates.stream().filter(c -> !busy.contains(c.nodeId())).count();
    }

    /** Candidates a new round could use: in vote mode, not those that already voted. */
    private List<Candidate> untriedAtAll(List<Candidate> candidates) {
      if (redundancy.mode() != RedundancyMode.VOTE) {
        return candidates;
      }
      Set<String> voted = tally.voters();
      return candidates.stream().filter(c -> !voted.contains(c.nodeId())).toList();
    }

    /** The coordinator is shutting down and cannot schedule the next round: give up now. */
    private void stopped() {
      Work w = new Work();
      synchronized (this) {
        roundPending = false;
        if (!done) {
          finish(w, Status.UNAVAILABLE.withDescription("the coordinator is shutting down"));
        }
      }
      act(w);
    }

    private void nextRound() {
      Work w = new Work();
      synchronized (this) {
        roundPending = false;
        tried.clear();
        // in vote mode a node votes once: those that voted stay "tried"
        tried.addAll(tally.voters());
        tried.addAll(refused);
        decide(w, AttemptKind.RETRY);
      }
      act(w);
    }

    /** The hedge delay passed: if the first attempt is still out, and the budget allows, hedge. */
    private void hedge() {
      Work w = new Work();
      synchronized (this) {
        if (done || hedged || running() == 0) {
          return; // answered already, or between retries
        }
        Set<String> busy = new HashSet<>(tried);
        busy.addAll(refused);
        if (picker.pick(candidates(), busy).isEmpty() || !hedging.tryHedge()) {
          return; // no other node to hedge on (keep the token), or over budget
        }
        hedged = true;
        int before = flights.size();
        decide(w, AttemptKind.HEDGE);
        if (flights.size() > before) {
          hedgeFlight = flights.get(flights.size() - 1);
        }
      }
      act(w);
    }

    /** A vote cannot reach a majority any more: an error, never a guess. */
    private void noMajority(Work w) {
      if (tally.distinctResults() >= 2) {
        finish(
            w,
            Status.ABORTED.withDescription(
                "no majority: "
                    + redundancy.describe()
                    + " needs "
                    + redundancy.majority()
                    + " equal results, got "
                    + tally.describe()
                    + "; "
                    + summarize()));
      } else {
        finish(
            w,
            Status.UNAVAILABLE.withDescription(
                "no majority: "
                    + redundancy.describe()
                    + " needs "
                    + redundancy.majority()
                    + " equal results, got "
                    + tally.describe()
                    + " and no other node could vote; "
                    + summarize()));
      }
    }

    private void onAnswer(Flight f, ComputeResponse response) {
      Work w = new Work();
      synchronized (this) {
        if (f.over) {
          return; // cancelled by us a moment before it answered: already counted
        }
        end(f, "OK", "", false);
        f.record.setResult(response.getResult());
        w.first.add(() -> cluster.attemptEnded(f.node.nodeId(), true));
        long latency = nanoClock.getAsLong() - f.startNanos;
        hedging.recordLatency(latency, expectedNanos);
        speeds.record(f.node.nodeId(), latency - expectedNanos, nanoClock.getAsLong());
        if (!done) {
          answered(w, f, response.getResult());
        }
      }
      act(w);
    }

    /** An attempt answered: the answer (first one wins), or a vote. Under the lock. */
    private void answered(Work w, Flight f, TaskResult result) {
      if (redundancy.mode() != RedundancyMode.VOTE) {
        answer(w, f.node.nodeId(), result, "another attempt answered first");
        return;
      }
      tally.add(f.node.nodeId(), result);
      Optional<TaskResult> winner = tally.winner(redundancy.majority());
      if (winner.isEmpty()) {
        decide(w, AttemptKind.RETRY);
        return;
      }
      Map<String, Boolean> votes = tally.outvoted(winner.get());
      w.first.add(() -> cluster.votes(votes));
      answer(w, tally.votersFor(winner.get()).get(0), winner.get(), "the vote was decided");
    }

    private void onFailure(Flight f, Throwable t) {
      Work w = new Work();
      synchronized (this) {
        if (f.over) {
          return; // we cancelled it: already recorded
        }
        Status status = Failures.normalize(Status.fromThrowable(t));
        String detail = describe(status, f.timeoutNanos);
        end(f, status.getCode().name(), detail, Failures.mayHaveRun(t));
        w.first.add(() -> cluster.attemptEnded(f.node.nodeId(), false));
        if (!done) {
          failed(w, f, t, status, detail);
        }
      }
      act(w);
    }

    /** An attempt failed: evidence for the detector, then retry, or give up. Under the lock. */
    private void failed(Work w, Flight f, Throwable t, Status status, String detail) {
      boolean timeUp = context.isCancelled() || deadline.isExpired();
      if (!timeUp && EVIDENCE.contains(status.getCode()) && !Failures.answeredByPeer(t)) {
        String why = status.getCode() + " (" + detail + ")";
        w.first.add(() -> cluster.callFailed(f.node.nodeId(), why));
      }
      // In parallel and vote modes one replica's error costs only that replica: the others may
      // still answer. In failover and hedged modes an error that every node would repeat ends it.
      boolean redundant =
          redundancy.mode() == RedundancyMode.PARALLEL || redundancy.mode() == RedundancyMode.VOTE;
      Status fatal = status.withDescription(f.node.nodeId() + " failed the task: " + detail);
      if (!timeUp && !RETRYABLE.contains(status.getCode())) {
        if (!redundant) {
          finish(w, fatal);
          return;
        }
        lastFatal = fatal;
        refused.add(f.node.nodeId()); // asking it again would fail the same way
      }
      decide(w, AttemptKind.RETRY); // it reports the deadline or the cancellation, if so
    }

    /** Records how an attempt ended. */
    private void end(Flight f, String outcome, String detail, boolean mayHaveRun) {
      f.over = true;
      f.record
          .setOutcome(outcome)
          .setDetail(detail)
          .setMayHaveRun(mayHaveRun)
          .setLatencyMicros((nanoClock.getAsLong() - f.startNanos) / 1_000);
    }

    /** Answers the client, cancelling the attempts still in flight. Under the lock. */
    private void answer(Work w, String nodeId, TaskResult result, String whyCancelled) {
      done = true;
      cancelRunning(w, whyCancelled);
      Answer.Builder a =
          Answer.newBuilder()
              .setRequestId(request.getRequestId())
              .setResult(result)
              .setNodeId(nodeId)
              .setCoordinatorId(coordinatorId)
              .setRedundancy(redundancy.toProto())
              .setCoordinatorMicros((nanoClock.getAsLong() - startNanos) / 1_000);
      for (Flight f : flights) {
        a.addAttempts(f.record.build());
      }
      if (redundancy.mode() == RedundancyMode.VOTE) {
        a.addAllTally(tally.ballots());
      }
      Answer answer = a.build();
      w.then.add(
          () -> {
            responses.onNext(answer);
            responses.onCompleted();
          });
    }

    /** Fails the request, cancelling the attempts still in flight. Under the lock. */
    private void finish(Work w, Status status) {
      done = true;
      cancelRunning(w, "the request failed");
      w.then.add(() -> responses.onError(status.asRuntimeException()));
    }

    private void cancelRunning(Work w, String why) {
      if (hedgeTimer != null) {
        w.then.add(hedgeTimer::cancel);
      }
      for (Flight f : flights) {
        if (!f.over) {
          end(f, "CANCELLED", "not needed any more: " + why, f.launched);
          w.cancel.add(f);
          if (f.launched) {
            // a loser took at least this long: leaving it out would make the p95 too optimistic,
            // and a node that always loses look fast
            long latency = nanoClock.getAsLong() - f.startNanos;
            hedging.recordLatency(latency, expectedNanos);
            speeds.record(f.node.nodeId(), latency - expectedNanos, nanoClock.getAsLong());
          }
        }
      }
    }

    /** Does what the decision left to do, outside the lock. */
    private void act(Work w) {
      for (Runnable r : w.first) {
        r.run();
      }
      for (Flight f : w.cancel) {
        ListenableFuture<ComputeResponse> call;
        synchronized (this) {
          call = f.released ? null : f.call;
          f.released |= call != null;
        }
        if (call != null) {
          cluster.attemptCancelled(f.node.nodeId());
          // true: for a gRPC future, only a cancel that "may interrupt" cancels the call itself,
          // which tells the node to stop the work
          call.cancel(true);
        }
        // a flight without a call yet is being launched on another thread (or further up this
        // one): launch() sees it is over, and does not start it
      }
      for (Flight f : w.start) {
        launch(f);
      }
      for (Runnable r : w.then) {
        r.run();
      }
    }

    /**
     * Starts one attempt's call; its callback comes back to {@link #onAnswer} or {@link
     * #onFailure}.
     */
    private void launch(Flight f) {
      synchronized (this) {
        if (f.over) {
          return; // the run ended before this attempt got going: it never starts
        }
        f.launched = true;
      }
      cluster.attemptStarted(f.node.nodeId());
      ListenableFuture<ComputeResponse> call;
      // The call is made in the request's context, so it inherits its deadline, and a client
      // who gives up cancels the attempt on the node too.
      Context previous = context.attach();
      try {
        call = caller.compute(f.node.address(), work, f.timeoutNanos);
      } catch (RuntimeException e) {
        // e.g. an address no channel can be built for: a failed attempt like any other, so that
        // its load is released and the request goes on
        call =
            Futures.immediateFailedFuture(
                Status.UNAVAILABLE
                    .withDescription("could not call " + f.node.address() + ": " + e.getMessage())
                    .asRuntimeException());
      } finally {
        context.detach(previous);
      }
      boolean cancelled;
      synchronized (this) {
        f.call = call;
        cancelled = f.over && !f.released; // the run ended while we were starting it
        f.released |= cancelled;
      }
      if (cancelled) {
        cluster.attemptCancelled(f.node.nodeId());
        call.cancel(true);
        return;
      }
      Futures.addCallback(
          call,
          new FutureCallback<>() {
            @Override
            public void onSuccess(ComputeResponse response) {
              onAnswer(f, response);
            }

            @Override
            public void onFailure(Throwable t) {
              Run.this.onFailure(f, t);
            }
          },
          MoreExecutors.directExecutor());
    }

    /** "node-1: UNAVAILABLE (connection refused); node-2 DEAD (no heartbeat for ...)". */
    private String whyNoNode() {
      List<NodeSnapshot> nodes = cluster.nodes();
      if (nodes.isEmpty()) {
        return "no node could answer: this coordinator has not heard from any node yet (nodes join"
            + " by sending heartbeats; are they configured with this coordinator's address?)";
      }
      StringJoiner why = new StringJoiner("; ", "no node could answer: ", "");
      for (NodeSnapshot n : nodes) {
        Optional<Attempt.Builder> last =
            flights.stream()
                .map(f -> f.record)
                .filter(a -> a.getNodeId().equals(n.nodeId()))
                .reduce((a, b) -> b);
        if (last.isPresent()) {
          why.add(
              n.nodeId()
                  + " failed: "
                  + last.get().getOutcome()
                  + " ("
                  + last.get().getDetail()
                  + ")");
        } else {
          why.add(n.nodeId() + " is " + n.state() + " (" + n.reason() + ")");
        }
      }
      return why.toString();
    }

    private String summarize() {
      if (flights.isEmpty()) {
        return "no attempt was made";
      }
      StringJoiner s = new StringJoiner(", ", flights.size() + " attempts: ", "");
      for (Flight f : flights) {
        s.add(f.node.nodeId() + " " + (f.over ? f.record.getOutcome() : "still running"));
      }
      return s.toString();
    }
  }

  /** Every node that may get work, with this coordinator's load on it and its recent speed. */
  private List<Candidate> candidates() {
    List<Candidate> out = new ArrayList<>();
    long now = nanoClock.getAsLong();
    for (NodeSnapshot n : cluster.nodes()) {
      if (n.state().mayGetWork()) {
        out.add(
            new Candidate(
                n.nodeId(),
                n.address(),
                n.state(),
                cluster.inFlight(n.nodeId()),
                n.inFlight(),
                n.capacity(),
                speeds.scoreNanos(n.nodeId(), now)));
      }
    }
    return out;
  }

  /** The node (re)joined the cluster: its past speed says nothing about the new process. */
  public void forgetSpeed(String nodeId) {
    speeds.forget(nodeId);
  }

  /** How slow the node has been lately, in extra time per attempt (for the cluster view). */
  public long slownessNanos(String nodeId) {
    return speeds.scoreNanos(nodeId, nanoClock.getAsLong());
  }

  private static String describe(Status status, long timeoutNanos) {
    if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      return "no answer within " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos) + " ms";
    }
    String description = status.getDescription() != null ? status.getDescription() : "";
    if (status.getCause() != null && status.getCause().getMessage() != null) {
      // e.g. "io exception" says little; its cause says "Connection refused: /127.0.0.1:7103"
      return description.isEmpty()
          ? status.getCause().getMessage()
          : description + " (" + status.getCause().getMessage() + ")";
    }
    return description.isEmpty() ? status.getCode().name() : description;
  }
}
