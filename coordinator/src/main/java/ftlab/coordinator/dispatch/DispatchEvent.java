package ftlab.coordinator.dispatch;

import ftlab.proto.Answer;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptKind;
import io.grpc.Status;
import java.util.List;

/**
 * What one request did, as it happened: for metrics and the dashboard, which subscribe with {@link
 * Dispatcher#listen}. The dispatch decides under a request's lock and never reads these; they are
 * handed to the listeners once the lock is released, in the order they were decided. Times are from
 * the request's start, on the coordinator's clock.
 */
public sealed interface DispatchEvent {
  /** The request's id, as the client sent it. */
  String requestId();

  /**
   * An attempt was started on a node.
   *
   * @param kind primary, retry, hedge, or one of a parallel or vote mode's copies
   */
  record AttemptStarted(String requestId, String nodeId, AttemptKind kind, long atNanos)
      implements DispatchEvent {}

  /**
   * An attempt ended: answered, failed (with its gRPC code and why), or cancelled because the
   * request no longer needed it. {@code attempt} is its provenance record, as the answer will carry
   * it.
   */
  record AttemptEnded(String requestId, Attempt attempt, long atNanos) implements DispatchEvent {}

  /**
   * The client got its answer. {@code answer} carries everything: the result, who answered and how,
   * every attempt, a vote's tally, the coordinator's own time.
   */
  record Answered(String requestId, Answer answer, long atNanos) implements DispatchEvent {}

  /**
   * The request failed: {@code status} is what the client got (its description says why, node by
   * node), after {@code attempts}.
   */
  record Failed(
      String requestId, Redundancy redundancy, Status status, List<Attempt> attempts, long atNanos)
      implements DispatchEvent {}
}
