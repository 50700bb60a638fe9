package ftlab.proto;

import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.util.EnumSet;
import java.util.Set;

/** How callers should read a failed call's status, the same way in every process. */
public final class Failures {
  private Failures() {}

  /**
   * A trailer a node puts on every error it sends itself (at capacity, draining, a bad task). Such
   * an error is an answer: the node is up and talking, so it is no evidence that the node failed. A
   * failed call without it (connection refused or reset, no answer in time) may well be. The
   * coordinator also puts it on the failure it makes of an answer that came from another node than
   * the one it called: the process at that address did answer, so that is no evidence either.
   */
  public static final Metadata.Key<String> ANSWERED_BY =
      Metadata.Key.of("ftlab-answered-by", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * Failures that another peer could fix, so the caller may try another node (a coordinator) or
   * another coordinator (the client). Anything else (INVALID_ARGUMENT, INTERNAL...) would fail the
   * same way everywhere. Written once, here, for both.
   */
  private static final Set<Status.Code> RETRYABLE =
      EnumSet.of(
          Status.Code.UNAVAILABLE, // refused, reset, draining, or no node could answer
          Status.Code.DEADLINE_EXCEEDED, // no answer in time: the peer is frozen or overloaded
          Status.Code.RESOURCE_EXHAUSTED); // at capacity: the work did not run

  /**
   * Failures that are evidence against the peer (it may be down), reported to a failure detector so
   * that it does not wait for heartbeats to time out. A peer at capacity is busy, not failing; and
   * an error the peer sent itself (see {@link #answeredByPeer}) proves it is up, whatever its code.
   */
  private static final Set<Status.Code> EVIDENCE =
      EnumSet.of(Status.Code.UNAVAILABLE, Status.Code.DEADLINE_EXCEEDED);

  /** Whether another peer could fix this failure: see {@link #RETRYABLE}. */
  public static boolean isRetryable(Status status) {
    return RETRYABLE.contains(status.getCode());
  }

  /**
   * Whether this failure, unless the peer sent it itself ({@link #answeredByPeer}), suggests that
   * the peer is down: see {@link #EVIDENCE}.
   */
  public static boolean isEvidenceAgainstNode(Status status) {
    return EVIDENCE.contains(status.getCode());
  }

  /**
   * Set by a coordinator that refuses a request because it is full (its admission limit): the
   * client backs off and, after a few such rounds, gives up with the reason. A rate limit's
   * refusal, also RESOURCE_EXHAUSTED, does not carry it: there the client keeps trying until its
   * deadline.
   */
  public static final Metadata.Key<String> FULL =
      Metadata.Key.of("ftlab-full", Metadata.ASCII_STRING_MARSHALLER);

  /** Trailers that say the coordinator refused the request because it was full. */
  public static Metadata full(String coordinatorId) {
    Metadata trailers = new Metadata();
    trailers.put(FULL, coordinatorId);
    return trailers;
  }

  /** Whether a coordinator refused this call because it was full ({@link #FULL}). */
  public static boolean refusedAsFull(Throwable failure) {
    Metadata trailers = Status.trailersFromThrowable(failure);
    return trailers != null && trailers.containsKey(FULL);
  }

  /** Trailers that say the error comes from this node itself. */
  public static Metadata answeredBy(String nodeId) {
    Metadata trailers = new Metadata();
    trailers.put(ANSWERED_BY, nodeId);
    return trailers;
  }

  /**
   * Whether the work may have run on the peer although the call failed: an <em>indefinite</em>
   * failure (no answer in time, the caller gave up, or the connection broke mid-call). A
   * <em>definite</em> failure means it surely did not run: the connection was refused, or the peer
   * itself answered with an error.
   */
  public static boolean mayHaveRun(Throwable failure) {
    if (answeredByPeer(failure)) {
      return false;
    }
    Status s = normalize(Status.fromThrowable(failure));
    return switch (s.getCode()) {
      case DEADLINE_EXCEEDED, CANCELLED -> true;
      case UNAVAILABLE -> !neverConnected(s);
      default -> false;
    };
  }

  private static boolean neverConnected(Status s) {
    for (Throwable c = s.getCause(); c != null; c = c.getCause()) {
      if (c instanceof java.net.ConnectException) {
        return true;
      }
    }
    String d = String.valueOf(s.getDescription()).toLowerCase(java.util.Locale.ROOT);
    return d.contains("connection refused") || d.contains("could not find server");
  }

  /** Whether a failed call's error was sent by the node itself (see {@link #ANSWERED_BY}). */
  public static boolean answeredByPeer(Throwable failure) {
    Metadata trailers = Status.trailersFromThrowable(failure);
    return trailers != null && trailers.containsKey(ANSWERED_BY);
  }

  /**
   * The status as the caller should act on it. grpc-java sometimes reports a connection that broke
   * under an active call (the peer was killed, the connection was reset) as {@code UNKNOWN: channel
   * closed} instead of {@code UNAVAILABLE} (grpc/grpc-java#10120). Such a status carries the local
   * I/O exception as its cause, which a status from the peer never does (causes do not cross the
   * wire), so it can be told apart from a real UNKNOWN sent by the peer, and is turned into what it
   * is: UNAVAILABLE, the connection was lost. The work may or may not have run on the peer.
   */
  public static Status normalize(Status status) {
    if (status.getCode() == Status.Code.UNKNOWN && causedByIo(status.getCause())) {
      return Status.UNAVAILABLE
          .withDescription(
              "connection lost during the call ("
                  + (status.getDescription() == null ? "no detail" : status.getDescription())
                  + ")")
          .withCause(status.getCause());
    }
    return status;
  }

  private static boolean causedByIo(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof IOException) {
        return true;
      }
    }
    return false;
  }
}
