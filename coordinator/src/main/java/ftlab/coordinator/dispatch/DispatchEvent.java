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
   * An attempt was decided on a node; its call is made next. If the request ends before the call is
   * made, the attempt ends CANCELLED with "may have run" false.
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
   * The request is answered (the client gets the answer at about the same moment: just after the
   * listeners hear this, or just before if another thread was handing them earlier events). {@code
   * answer} carries everything: the result, who answered and how, every attempt, a vote's tally,
   * the coordinator's own time.
   */
  record Answered(String requestId, Answer answer, long atNanos) implements DispatchEvent {}

  /**
   * The request failed: {@code status} is what the client gets (its description says why, node by
   * node), after {@code attempts}. A request refused before it ran (a bad task, a bad mode)
   * publishes nothing: it had no attempt.
   */
  record Failed(
      String requestId, Redundancy redundancy, Status status, List<Attempt> attempts, long atNanos)
      implements DispatchEvent {}
}
