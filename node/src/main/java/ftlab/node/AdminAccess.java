package ftlab.node;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.SocketAddress;
import java.util.Optional;

/**
 * The one door to the node's admin service (NodeAdmin: inject faults, heal, crash), which changes a
 * running cluster. Every admin call passes through here before it reaches the service.
 *
 * <p>Who may call is decided for the whole port: with mutual TLS on ({@code --tls-dir}) the
 * process's {@link ftlab.security.AuthorizationInterceptor} lets only an admin's certificate
 * through; in plaintext every caller gets in (the lab runs on a laptop or a private Docker
 * network). {@link #refusal} is where a check of this service's own would go.
 *
 * <p>It also tells the service who is calling ({@link #CALLER}), for the log.
 */
final class AdminAccess implements ServerInterceptor {

  /** The caller's address, "127.0.0.1:53412", in the admin call's context. */
  static final Context.Key<String> CALLER = Context.key("ftlab-admin-caller");

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    Optional<Status> refused = refusal(call, headers);
    if (refused.isPresent()) {
      call.close(refused.get(), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    String caller = remote == null ? "unknown caller" : remote.toString().replaceFirst("^/", "");
    return Contexts.interceptCall(Context.current().withValue(CALLER, caller), call, headers, next);
  }

  /**
   * Why this call may not go ahead (e.g. PERMISSION_DENIED), or empty to let it through: always
   * empty, the port's authorization (TLS on) has decided already.
   */
  private static Optional<Status> refusal(ServerCall<?, ?> call, Metadata headers) {
    return Optional.empty();
  }
}
