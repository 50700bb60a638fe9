package ftlab.coordinator.dispatch;

import com.google.common.util.concurrent.ListenableFuture;
import ftlab.clock.Scheduler;
import ftlab.coordinator.picker.Candidate;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptKind;
import ftlab.proto.AttemptOutcome;
import ftlab.proto.ComputeResponse;
import ftlab.proto.TaskResult;
import io.grpc.Status;
import java.util.concurrent.TimeUnit;

/**
 * One attempt of a request on one node, from its start to its end: its provenance record and its
 * call. Guarded by its {@link RequestRun}'s lock.
 */
final class AttemptOnNode {
  final Candidate node;
  final AttemptKind kind;
  final long timeoutNanos;
  final long startNanos;

  /** What the answer will tell of this attempt (node, kind, outcome, latency...). */
  final Attempt.Builder record;

  /** The call, once made; cancelling it cancels the call on the node. */
  ListenableFuture<ComputeResponse> call;

  /** Its timeout, once launched: fails it with DEADLINE_EXCEEDED after {@link #timeoutNanos}. */
  Scheduler.Cancellable timeout;

  /** Ended: answered, failed, or cancelled by the run. A callback after that is ignored. */
  boolean ended;

  /** Its call is being made or was made: from then on, the task may have run on the node. */
  boolean launched;

  /**
   * The load of an attempt that ended without its callback was given back: as cancelled (by the
   * run, or by the launch that finds the attempt ended), or as failed (by its timeout). Exactly
   * once.
   */
  boolean released;

  AttemptOnNode(
      Candidate node, AttemptKind kind, long timeoutNanos, long startNanos, long requestStart) {
    this.node = node;
    this.kind = kind;
    this.timeoutNanos = timeoutNanos;
    this.startNanos = startNanos;
    this.record =
        Attempt.newBuilder()
            .setNodeId(node.nodeId())
            .setKind(kind)
            .setDeadlineMs(TimeUnit.NANOSECONDS.toMillis(timeoutNanos))
            .setStartedMicros((startNanos - requestStart) / 1_000);
  }

  String nodeId() {
    return node.nodeId();
  }

  /** Whether it ended with an answer (in vote mode, a vote). */
  boolean answered() {
    return record.getOutcome() == AttemptOutcome.ANSWERED;
  }

  /** The node answered with {@code result}. */
  void answered(TaskResult result, long nowNanos) {
    end(AttemptOutcome.ANSWERED, "", nowNanos).setResult(result);
  }

  /**
   * The call failed.
   *
   * @param mayHaveRun whether the task may have run on the node all the same (an indefinite
   *     failure: no answer in time, or the connection broke mid-call)
   */
  void failed(Status.Code code, String detail, boolean mayHaveRun, long nowNanos) {
    end(AttemptOutcome.FAILED, detail, nowNanos)
        .setFailureCode(code.name())
        .setMayHaveRun(mayHaveRun);
  }

  /** The run cancelled it: not needed any more. The task may have run if its call was made. */
  void cancelled(String why, long nowNanos) {
    end(AttemptOutcome.CANCELLED, "not needed any more: " + why, nowNanos).setMayHaveRun(launched);
  }

  private Attempt.Builder end(AttemptOutcome outcome, String detail, long nowNanos) {
    ended = true;
    return record
        .setOutcome(outcome)
        .setDetail(detail)
        .setLatencyMicros((nowNanos - startNanos) / 1_000);
  }

  /** What an attempt's failure says, in a few words. */
  static String failureDetail(Status status, long timeoutNanos) {
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
