package ftlab.coordinator;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;

/**
 * A hook in front of the coordinator's admin service (switch modes, readmit, revoke) only. Who may
 * call it is decided for the whole port, not here: with mutual TLS on ({@code --tls-dir}) the
 * process's {@link ftlab.security.AuthorizationInterceptor} lets only an admin's certificate
 * through ({@link ftlab.security.Authorization}'s table); in plaintext, anyone who reaches the port
 * may (the lab runs on a network of its own and publishes ports on 127.0.0.1 only).
 */
final class AdminAccess implements ServerInterceptor {
  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    return next.startCall(call, headers);
  }
}
