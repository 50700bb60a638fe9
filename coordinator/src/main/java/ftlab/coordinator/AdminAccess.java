package ftlab.coordinator;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * Who may use the coordinator's admin service (switch modes, readmit nodes): the one place where
 * that is decided. Today, anyone who can reach the port: the lab runs on a network of its own and
 * publishes ports on 127.0.0.1 only. The security work puts the check here (the caller's
 * certificate names an operator role), and nowhere else.
 */
final class AdminAccess implements ServerInterceptor {
  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    return next.startCall(call, headers);
  }
}
