package ftlab.coordinator.dispatch;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
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
   * so it does not wait for heartbeats to time out. A node at capacity is busy, not failing.
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

  public Dispatcher(
      String coordinatorId,
      Cluster cluster,
      NodePicker picker,
      NodeCaller caller,
      Settings settings,
      LongSupplier nanoClock) {
    this.coordinatorId = coordinatorId;
    this.cluster = cluster;
    this.picker = picker;
    this.caller = caller;
    this.settings = settings;
    this.nanoClock = nanoClock;
  }

  /**
   * Runs the request and returns the answer with its provenance.
   *
   * @throws StatusRuntimeException INVALID_ARGUMENT for a bad task; UNAVAILABLE when no node could
   *     answer (the description lists why, node by node); DEADLINE_EXCEEDED when the request's
   *     deadline passed; CANCELLED when the client gave up; or a node's own non-retryable error
   */
  public Answer dispatch(SubmitRequest request) {
    long start = nanoClock.getAsLong();
    Optional<String> problem = Tasks.problem(request.getTask());
    if (problem.isPresent()) {
      throw Status.INVALID_ARGUMENT.withDescription(problem.get()).asRuntimeException();
    }
    Context context = Context.current();
    Deadline deadline =
        context.getDeadline() != null
            ? context.getDeadline()
            : Deadline.after(settings.requestTimeout().toNanos(), TimeUnit.NANOSECONDS);
    long attemptBudgetNanos =
        settings.attemptTimeout().toNanos()
            + TimeUnit.MILLISECONDS.toNanos(Tasks.expectedMillis(request.getTask()));
    ComputeRequest work =
        ComputeRequest.newBuilder()
            .setRequestId(request.getRequestId())
            .setTask(request.getTask())
            .build();

    List<Attempt> attempts = new ArrayList<>();
    Set<String> tried = new HashSet<>();
    long backoffNanos = settings.roundBackoff().toNanos();
    while (true) {
      // The deadline first: gRPC also cancels a context when its deadline passes, and that is
      // running out of time (DEADLINE_EXCEEDED), not the client giving up (CANCELLED).
      long remaining = deadline.timeRemaining(TimeUnit.NANOSECONDS);
      if (remaining <= 0) {
        throw Status.DEADLINE_EXCEEDED
            .withDescription("the request's deadline passed; " + summarize(attempts))
            .asRuntimeException();
      }
      if (context.isCancelled()) {
        throw Status.CANCELLED
            .withDescription(
                "the client cancelled the request after " + attempts.size() + " attempts")
            .asRuntimeException();
      }
      List<Candidate> candidates = candidates();
      Optional<Candidate> picked = picker.pick(candidates, tried);
      if (picked.isEmpty()) {
        boolean anyWorkable = !candidates.isEmpty();
        if (anyWorkable && remaining > backoffNanos) {
          // Every live node was tried and failed. Some failures pass (a node at capacity, a
          // reconnect); pause briefly and start a new round.
          LockSupport.parkNanos(backoffNanos);
          backoffNanos = Math.min(backoffNanos * 2, TimeUnit.MILLISECONDS.toNanos(200));
          tried.clear();
          continue;
        }
        throw Status.UNAVAILABLE.withDescription(whyNoNode(attempts)).asRuntimeException();
      }
      Candidate node = picked.get();
      tried.add(node.nodeId());
      long timeout = Math.min(remaining, attemptBudgetNanos);
      long attemptStart = nanoClock.getAsLong();
      cluster.attemptStarted(node.nodeId());
      boolean answered = false;
      try {
        ComputeResponse response = caller.compute(node.address(), work, timeout);
        answered = true;
        attempts.add(attempt(node, "OK", "", nanoClock.getAsLong() - attemptStart, timeout));
        return Answer.newBuilder()
            .setRequestId(request.getRequestId())
            .setResult(response.getResult())
            .setNodeId(node.nodeId())
            .setCoordinatorId(coordinatorId)
            .addAllAttempts(attempts)
            .setCoordinatorMicros((nanoClock.getAsLong() - start) / 1_000)
            .build();
      } catch (StatusRuntimeException e) {
        Status status = Failures.normalize(e.getStatus());
        String detail = describe(status, timeout);
        attempts.add(
            attempt(
                node,
                status.getCode().name(),
                detail,
                nanoClock.getAsLong() - attemptStart,
                timeout));
        if (context.isCancelled() || deadline.isExpired()) {
          continue; // the loop's checks above report it
        }
        if (EVIDENCE.contains(status.getCode())) {
          cluster.callFailed(node.nodeId(), status.getCode() + " (" + detail + ")");
        }
        if (!RETRYABLE.contains(status.getCode())) {
          throw status
              .withDescription(node.nodeId() + " failed the task: " + detail)
              .asRuntimeException();
        }
      } finally {
        cluster.attemptEnded(node.nodeId(), answered);
      }
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
