package ftlab.proto;

import io.grpc.Status;
import java.io.IOException;

/** How callers should read a failed call's status, the same way in every process. */
public final class Failures {
  private Failures() {}

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
