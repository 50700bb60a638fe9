package ftlab.coordinator.dispatch;

import ftlab.clock.Scheduler;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.NodeSnapshot;
import ftlab.coordinator.picker.Candidate;
import ftlab.coordinator.picker.NodePicker;
import ftlab.coordinator.picker.RecentExtraTime;
import ftlab.proto.Answer;
import ftlab.proto.Failures;
import ftlab.proto.RedundancyMode;
import ftlab.proto.SubmitRequest;
import ftlab.task.Tasks;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs requests on the cluster in a {@link Redundancy} mode: pick live nodes, give every attempt a
 * deadline, and when an attempt fails in a way that another node could fix, try a different node,
 * until the request's own deadline. See docs/architecture.md ("Dispatch") and docs/redundancy.md.
 *
 * <p>Each request is a {@link RequestRun} (what every mode shares) driven by its mode's {@link
 * ModePolicy} ({@link FailoverPolicy}, {@link HedgedPolicy}, {@link ParallelPolicy}, {@link
 * VotePolicy}). This class holds what the requests share: the cluster, the node picker, the
 * network, the clock, the hedge budget, and the coordinator's mode.
 *
 * <p>Retrying and running a task twice are always safe here because tasks are deterministic and
 * have no side effects: an attempt that timed out may or may not have run on its node (an
 * indefinite failure), but running it again elsewhere cannot do anything twice.
 */
public final class Dispatcher {

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
      HedgePolicy hedging,
      AdmissionLimit admission) {
    /** The coordinator's defaults, but no admission limit (the coordinator sets its own). */
    public static final Settings DEFAULT =
        new Settings(
            Duration.ofMillis(300),
            Duration.ofSeconds(10),
            Duration.ofMillis(10),
            HedgePolicy.DEFAULT,
            AdmissionLimit.OFF);

    public Settings(Duration attemptTimeout, Duration requestTimeout, Duration roundBackoff) {
      this(attemptTimeout, requestTimeout, roundBackoff, HedgePolicy.DEFAULT, AdmissionLimit.OFF);
    }

    public Settings(
        Duration attemptTimeout,
        Duration requestTimeout,
        Duration roundBackoff,
        HedgePolicy hedging) {
      this(attemptTimeout, requestTimeout, roundBackoff, hedging, AdmissionLimit.OFF);
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
      return new Settings(attemptTimeout, requestTimeout, roundBackoff, h, admission);
    }

    public Settings withAdmission(AdmissionLimit a) {
      return new Settings(attemptTimeout, requestTimeout, roundBackoff, hedging, a);
    }
  }

  /**
   * What every request of this coordinator shares: the parts a {@link RequestRun} works with.
   *
   * @param scheduler the clock, and the timers: attempt timeouts, hedges, the next round
   */
  record Shared(
      String coordinatorId,
      Cluster cluster,
      NodePicker picker,
      NodeCaller caller,
      Settings settings,
      Scheduler scheduler,
      HedgePolicy.State hedging,
      RecentExtraTime extraTime,
      DispatchListeners listeners,
      Waiters waiters) {

    /**
     * The node's last heartbeat came after this coordinator last started an attempt there (or it
     * never did): the count it reported knows of our attempts. Durations on the cluster's clock;
     * the time since our start is read after the snapshot, so a tie counts as after.
     */
    private boolean heardSinceOurLastStart(NodeSnapshot n) {
      OptionalLong sinceStart = cluster.sinceLastStartedNanos(n.nodeId());
      return sinceStart.isEmpty() || n.silenceNanos() <= sinceStart.getAsLong();
    }

    /** Every node that may get work, with this coordinator's load on it and its recent speed. */
    List<Candidate> candidates() {
      List<Candidate> out = new ArrayList<>();
      long now = scheduler.nanoTime();
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
                  extraTime.nanos(n.nodeId(), now),
                  heardSinceOurLastStart(n)));
        }
      }
      return out;
    }
  }

  private final Shared shared;
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicLong shed = new AtomicLong();

  /**
   * The coordinator's mode, for every request that does not choose its own; its replicas are also
   * what a request gets that asks for parallel or vote without a count.
   */
  private volatile Redundancy redundancy =
      new Redundancy(RedundancyMode.FAILOVER, Redundancy.DEFAULT_REPLICAS);

  /**
   * @param scheduler the clock, and the timers: attempt timeouts, hedges, the next round ({@link
   *     Scheduler#of} in production, a fake clock in tests)
   */
  public Dispatcher(
      String coordinatorId,
      Cluster cluster,
      NodePicker picker,
      NodeCaller caller,
      Settings settings,
      Scheduler scheduler) {
    this.shared =
        new Shared(
            coordinatorId,
            cluster,
            picker,
            caller,
            settings,
            scheduler,
            settings.hedging().newState(),
            new RecentExtraTime(),
            new DispatchListeners(),
            new Waiters());
  }

  /**
   * Subscribes {@code listener} to every request's events from the next request on (metrics, the
   * dashboard): each request is heard whole, from its first attempt to its end, or not at all
   * (those already running when it subscribes).
   */
  public void listen(DispatchListener listener) {
    shared.listeners().add(listener);
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
    return shared.hedging();
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
  public Answer dispatchAndWait(SubmitRequest request) {
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
   * The longest a request may run, whatever deadline its client set: a client that asks for an hour
   * must not hold the coordinator's retries (and its memory) for an hour when no node can answer.
   */
  public static final Duration MAX_REQUEST_TIME = Duration.ofSeconds(60);

  /** The longest request id a client may give (the CLI's are like "#12" or a UUID). */
  public static final int MAX_REQUEST_ID = 128;

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
    if (request.getRequestId().length() > MAX_REQUEST_ID) {
      // it comes back in the answer and in the dashboard's events: a caller's label, not a payload
      responses.onError(
          Status.INVALID_ARGUMENT
              .withDescription(
                  "request_id must be at most "
                      + MAX_REQUEST_ID
                      + " characters, got "
                      + request.getRequestId().length())
              .asException());
      return;
    }
    Optional<String> problem = Tasks.problem(request.getTask());
    if (problem.isPresent()) {
      responses.onError(Status.INVALID_ARGUMENT.withDescription(problem.get()).asException());
      return;
    }
    Redundancy r = redundancy;
    if (request.hasRedundancy()
        && request.getRedundancy().getMode() != RedundancyMode.REDUNDANCY_MODE_UNSPECIFIED) {
      try {
        r = Redundancy.fromProto(request.getRedundancy(), r.replicas());
      } catch (IllegalArgumentException e) {
        responses.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException());
        return;
      }
    }
    Optional<String> full = full(r);
    if (full.isPresent()) {
      shed.incrementAndGet();
      responses.onError(
          Status.RESOURCE_EXHAUSTED
              .withDescription(full.get())
              .asException(Failures.full(shared.coordinatorId())));
      return;
    }
    if (r.mode() == RedundancyMode.HEDGED) {
      shared.hedging().onRequest(); // only requests that may hedge earn hedges
    }
    ModePolicy policy = ModePolicy.of(r, shared.hedging());
    StreamObserver<Answer> counted = countedOut(responses);
    try {
      new RequestRun(shared, request, counted, Context.current(), policy).start();
    } catch (RuntimeException e) {
      counted.onError(Status.INTERNAL.withDescription("dispatch failed: " + e).asException());
    }
  }

  /** Requests started and not yet answered or failed. */
  public int requestsRunning() {
    return running.get();
  }

  /** How many requests it takes on at once. */
  public AdmissionLimit admission() {
    return shared.settings().admission();
  }

  /** Requests refused at once because this coordinator was full ({@link AdmissionLimit}). */
  public long requestsShed() {
    return shed.get();
  }

  /**
   * Requests paused between rounds right now (every node they tried was full or failed), each
   * waiting for a task slot to free or its pause to end.
   */
  public int requestsWaiting() {
    return shared.waiters().size();
  }

  /** Why the admission limit refuses a new request in mode {@code r} now, if it does. */
  private Optional<String> full(Redundancy r) {
    AdmissionLimit limit = shared.settings().admission();
    if (limit.off()) {
      return Optional.empty();
    }
    int nodes = 0;
    long slots = 0; // a long: a node may report any capacity, a sum of them must not wrap
    for (NodeSnapshot n : shared.cluster().nodes()) {
      if (n.state().mayGetWork()) {
        nodes++;
        slots += n.capacity();
      }
    }
    return limit.refusal(
        shared.coordinatorId(), running.get(), nodes, (int) Math.min(slots, Integer.MAX_VALUE), r);
  }

  /**
   * Counts the request in {@link #requestsRunning} until it ends: out once, as its call is closed
   * (its answer handed on already), or if handing the answer on failed. A coordinator stopping when
   * the count reaches 0 keeps a short margin after it (CoordinatorServer) for the close that
   * follows.
   */
  private StreamObserver<Answer> countedOut(StreamObserver<Answer> responses) {
    running.incrementAndGet();
    AtomicBoolean ended = new AtomicBoolean();
    Runnable countOut =
        () -> {
          if (ended.compareAndSet(false, true)) {
            running.decrementAndGet();
          }
        };
    return new StreamObserver<>() {
      // counted out just *before* the call is closed: a client has a unary answer when the call
      // closes, and one that sends its next request at that moment (a closed loop with as many
      // in flight as the limit) must find the room this one leaves, not be refused for a request
      // already answered
      @Override
      public void onNext(Answer a) {
        try {
          responses.onNext(a);
        } catch (RuntimeException e) {
          countOut.run(); // no onCompleted will follow
          throw e;
        }
      }

      @Override
      public void onError(Throwable t) {
        countOut.run();
        responses.onError(t);
      }

      @Override
      public void onCompleted() {
        countOut.run();
        responses.onCompleted();
      }
    };
  }

  /** The node (re)joined the cluster: its past speed says nothing about the new process. */
  public void forgetSpeed(String nodeId) {
    shared.extraTime().forget(nodeId);
  }

  /** How much longer than expected the node's recent attempts took (for the cluster view). */
  public long recentExtraNanos(String nodeId) {
    return shared.extraTime().nanos(nodeId, shared.scheduler().nanoTime());
  }
}
