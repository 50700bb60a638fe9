package ftlab.coordinator.dispatch;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.NodeSnapshot;
import ftlab.proto.Answer;
import ftlab.proto.Attempt;
import ftlab.proto.ComputeRequest;
import ftlab.proto.ComputeResponse;
import ftlab.proto.Failures;
import ftlab.proto.SubmitRequest;
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
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Runs one request on the cluster with failover: pick a live node, give the attempt a deadline, and
 * when it fails in a way that another node could fix, try a different node, until the request's own
 * deadline. See docs/architecture.md, "Dispatch with failover".
 *
 * <p>Retrying is always safe here because tasks are deterministic and have no side effects: an
 * attempt that timed out may or may not have run on its node (an indefinite failure), but running
 * it again elsewhere cannot do anything twice.
 */
public final class Dispatcher {

  /**
   * Failures another node could fix. Anything else (INVALID_ARGUMENT, INTERNAL...) would fail the
   * same way everywhere, so it goes straight back to the client.
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
   */
  public record Settings(Duration attemptTimeout, Duration requestTimeout, Duration roundBackoff) {
    public static final Settings DEFAULT =
        new Settings(Duration.ofMillis(300), Duration.ofSeconds(10), Duration.ofMillis(10));

    public Settings {
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
  }

  private final String coordinatorId;
  private final Cluster cluster;
  private final NodePicker picker;
  private final NodeCaller caller;
  private final Settings settings;
  private final LongSupplier nanoClock;
  private final ScheduledExecutorService timer;

  /**
   * @param timer runs the next round after a pause, when every node failed
   */
  public Dispatcher(
      String coordinatorId,
      Cluster cluster,
      NodePicker picker,
      NodeCaller caller,
      Settings settings,
      LongSupplier nanoClock,
      ScheduledExecutorService timer) {
    this.coordinatorId = coordinatorId;
    this.cluster = cluster;
    this.picker = picker;
    this.caller = caller;
    this.settings = settings;
    this.nanoClock = nanoClock;
    this.timer = timer;
  }

  /**
   * Runs the request and waits for its answer: for callers that may block (tests, tools). The
   * coordinator's gRPC service uses {@link #dispatch(SubmitRequest, StreamObserver)}.
   *
   * @throws StatusRuntimeException INVALID_ARGUMENT for a bad task; UNAVAILABLE when no node could
   *     answer (the description lists why, node by node); DEADLINE_EXCEEDED when the request's
   *     deadline passed; CANCELLED when the client gave up; or a node's own non-retryable error
   */
  public Answer dispatch(SubmitRequest request) {
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
   * Starts the request and returns at once; the answer with its provenance, or the error, goes to
   * {@code responses}. Nothing here blocks: each attempt's result arrives as a callback, which
   * either answers or starts the next attempt. So the coordinator needs no thread per request, and
   * the gRPC server can run it on its network threads.
   */
  public void dispatch(SubmitRequest request, StreamObserver<Answer> responses) {
    Optional<String> problem = Tasks.problem(request.getTask());
    if (problem.isPresent()) {
      responses.onError(Status.INVALID_ARGUMENT.withDescription(problem.get()).asException());
      return;
    }
    new Run(request, responses, Context.current()).next();
  }

  /**
   * One request, from its first attempt to its answer. Its fields change only in {@link #next} and
   * in the callback of the one attempt in flight, which never run at the same time: each attempt is
   * started by the previous one's callback (or by the timer between rounds).
   */
  private final class Run {
    private final SubmitRequest request;
    private final StreamObserver<Answer> responses;
    private final Context context;
    private final Deadline deadline;
    private final ComputeRequest work;
    private final long startNanos = nanoClock.getAsLong();

    /**
     * An attempt's deadline: the attempt timeout plus the task's own expected duration, so that a
     * long task is not mistaken for a frozen node.
     */
    private final long attemptBudgetNanos;

    private final List<Attempt> attempts = new ArrayList<>();
    private final Set<String> tried = new HashSet<>();
    private long backoffNanos = settings.roundBackoff().toNanos();

    Run(SubmitRequest request, StreamObserver<Answer> responses, Context context) {
      this.request = request;
      this.responses = responses;
      this.context = context;
      this.deadline =
          context.getDeadline() != null
              ? context.getDeadline()
              : Deadline.after(settings.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
      this.attemptBudgetNanos =
          settings.attemptTimeout().toNanos()
              + TimeUnit.MILLISECONDS.toNanos(Tasks.expectedMillis(request.getTask()));
      this.work =
          ComputeRequest.newBuilder()
              .setRequestId(request.getRequestId())
              .setTask(request.getTask())
              .build();
    }

    /** Decides what to do next: give up, wait for another round, or start an attempt. */
    void next() {
      // The deadline first: gRPC also cancels a context when its deadline passes, and that is
      // running out of time (DEADLINE_EXCEEDED), not the client giving up (CANCELLED).
      long remaining = deadline.timeRemaining(TimeUnit.NANOSECONDS);
      if (remaining <= 0) {
        fail(
            Status.DEADLINE_EXCEEDED.withDescription(
                "the request's deadline passed; " + summarize(attempts)));
        return;
      }
      if (context.isCancelled()) {
        fail(
            Status.CANCELLED.withDescription(
                "the client cancelled the request after " + attempts.size() + " attempt(s)"));
        return;
      }
      List<Candidate> candidates = candidates();
      Optional<Candidate> picked = picker.pick(candidates, tried);
      if (picked.isEmpty()) {
        if (!candidates.isEmpty() && remaining > backoffNanos) {
          // Every live node was tried and failed. Some failures pass (a node at capacity, a
          // reconnect); pause briefly and start a new round.
          long pause = backoffNanos;
          backoffNanos = Math.min(backoffNanos * 2, TimeUnit.MILLISECONDS.toNanos(200));
          tried.clear();
          timer.schedule(this::next, pause, TimeUnit.NANOSECONDS);
          return;
        }
        fail(Status.UNAVAILABLE.withDescription(whyNoNode(attempts)));
        return;
      }
      start(picked.get(), Math.min(remaining, attemptBudgetNanos));
    }

    /** Starts one attempt on one node; its callback answers or calls {@link #next} again. */
    private void start(Candidate node, long timeoutNanos) {
      tried.add(node.nodeId());
      long attemptStart = nanoClock.getAsLong();
      cluster.attemptStarted(node.nodeId());
      ListenableFuture<ComputeResponse> call;
      // The call is made in the request's context, so it inherits its deadline, and a client
      // who gives up cancels the attempt on the node too.
      Context previous = context.attach();
      try {
        call = caller.compute(node.address(), work, timeoutNanos);
      } finally {
        context.detach(previous);
      }
      Futures.addCallback(
          call,
          new FutureCallback<>() {
            @Override
            public void onSuccess(ComputeResponse response) {
              cluster.attemptEnded(node.nodeId(), true);
              attempts.add(
                  attempt(node, "OK", "", nanoClock.getAsLong() - attemptStart, timeoutNanos));
              answer(node, response);
            }

            @Override
            public void onFailure(Throwable t) {
              cluster.attemptEnded(node.nodeId(), false);
              Status status = Failures.normalize(Status.fromThrowable(t));
              String detail = describe(status, timeoutNanos);
              attempts.add(
                  attempt(
                          node,
                          status.getCode().name(),
                          detail,
                          nanoClock.getAsLong() - attemptStart,
                          timeoutNanos)
                      .toBuilder()
                      .setMayHaveRun(Failures.mayHaveRun(t))
                      .build());
              failed(node, status, detail, Failures.answeredByPeer(t));
            }
          },
          MoreExecutors.directExecutor());
    }

    /**
     * @param nodeAnswered the error was sent by the node itself (it is at capacity, draining...):
     *     it is up and talking, so the failure is no evidence against it
     */
    private void failed(Candidate node, Status status, String detail, boolean nodeAnswered) {
      if (context.isCancelled() || deadline.isExpired()) {
        next(); // it reports the deadline or the cancellation
        return;
      }
      if (EVIDENCE.contains(status.getCode()) && !nodeAnswered) {
        cluster.callFailed(node.nodeId(), status.getCode() + " (" + detail + ")");
      }
      if (!RETRYABLE.contains(status.getCode())) {
        fail(status.withDescription(node.nodeId() + " failed the task: " + detail));
        return;
      }
      next();
    }

    private void answer(Candidate node, ComputeResponse response) {
      responses.onNext(
          Answer.newBuilder()
              .setRequestId(request.getRequestId())
              .setResult(response.getResult())
              .setNodeId(node.nodeId())
              .setCoordinatorId(coordinatorId)
              .addAllAttempts(attempts)
              .setCoordinatorMicros((nanoClock.getAsLong() - startNanos) / 1_000)
              .build());
      responses.onCompleted();
    }

    private void fail(Status status) {
      responses.onError(status.asRuntimeException());
    }
  }

  /** Every node that may get work, with this coordinator's load on it. */
  private List<Candidate> candidates() {
    List<Candidate> out = new ArrayList<>();
    for (NodeSnapshot n : cluster.nodes()) {
      if (n.state().mayGetWork()) {
        out.add(
            new Candidate(
                n.nodeId(),
                n.address(),
                n.state(),
                cluster.inFlight(n.nodeId()),
                n.inFlight(),
                n.capacity()));
      }
    }
    return out;
  }

  private static Attempt attempt(
      Candidate node, String outcome, String detail, long latencyNanos, long timeoutNanos) {
    return Attempt.newBuilder()
        .setNodeId(node.nodeId())
        .setOutcome(outcome)
        .setDetail(detail)
        .setLatencyMicros(latencyNanos / 1_000)
        .setDeadlineMs(TimeUnit.NANOSECONDS.toMillis(timeoutNanos))
        .build();
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

  /** "node-1: UNAVAILABLE (connection refused); node-2 DEAD (no heartbeat for ...)". */
  private String whyNoNode(List<Attempt> attempts) {
    List<NodeSnapshot> nodes = cluster.nodes();
    if (nodes.isEmpty()) {
      return "no node could answer: this coordinator has not heard from any node yet (nodes join"
          + " by sending heartbeats; are they configured with this coordinator's address?)";
    }
    StringJoiner why = new StringJoiner("; ", "no node could answer: ", "");
    for (NodeSnapshot n : nodes) {
      Optional<Attempt> last =
          attempts.stream().filter(a -> a.getNodeId().equals(n.nodeId())).reduce((a, b) -> b);
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

  private static String summarize(List<Attempt> attempts) {
    if (attempts.isEmpty()) {
      return "no attempt was made";
    }
    StringJoiner s = new StringJoiner(", ", attempts.size() + " attempts: ", "");
    for (Attempt a : attempts) {
      s.add(a.getNodeId() + " " + a.getOutcome());
    }
    return s.toString();
  }
}
