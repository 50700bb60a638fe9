package ftlab.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The one door of a process's port when TLS is on: every call's caller is named by its certificate
 * ({@link Identity#ofPeer}) and checked against the revoked names, then {@link Authorization}'s
 * table, before any service sees it. A refused call ends with {@code PERMISSION_DENIED} (a
 * certificate whose role may not call the method) or {@code UNAUTHENTICATED} (no ftlab identity)
 * and a sentence, and is reported.
 *
 * <p>Calls let through carry the caller's identity in {@link #CALLER} for the services that check
 * more (a heartbeat's node id against its certificate).
 */
public final class AuthorizationInterceptor implements ServerInterceptor {

  /** The identity of the caller of the current call (absent in plaintext). */
  public static final Context.Key<Identity> CALLER = Context.key("ftlab-caller-identity");

  /** The address of the caller of the current call, "10.0.3.7:51234" (set with {@link #CALLER}). */
  public static final Context.Key<String> CALLER_ADDRESS = Context.key("ftlab-caller-address");

  private final String self;
  private final Consumer<Refusal> refused;
  private final Revocations revocations;

  /**
   * @param self this process, for the sentence ("coordinator-1 refused ...")
   * @param defenses where refusals are recorded (counted, logged, shown), with the names revoked
   *     ({@code ftlab revoke}), checked before the table
   */
  public AuthorizationInterceptor(String self, DefenseScoreboard defenses) {
    this.self = self;
    this.refused = defenses::record;
    this.revocations = defenses.revocations();
  }

  /** The identity of the current call's caller, if TLS named one. */
  public static Optional<Identity> caller() {
    return Optional.ofNullable(CALLER.get());
  }

  /**
   * The address of the current call's caller, where this interceptor let it through or {@link
   * #callerAddresses()} put it.
   */
  public static String callerAddress() {
    String address = CALLER_ADDRESS.get();
    return address == null ? "unknown" : address;
  }

  /**
   * Puts the caller's address into the call's context where no authorization interceptor did
   * (plaintext), for checks that need no identity, such as rate limits.
   */
  public static ServerInterceptor callerAddresses() {
    return new ServerInterceptor() {
      @Override
      public <Q, A> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        if (CALLER_ADDRESS.get() != null) {
          return next.startCall(call, headers);
        }
        return Contexts.interceptCall(
            Context.current().withValue(CALLER_ADDRESS, peerAddress(call)), call, headers, next);
      }
    };
  }

  /** "10.0.3.7:51234", or "unknown". */
  public static String peerAddress(ServerCall<?, ?> call) {
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
      // no regular expression on every call: the rate limits ask on each request
      String host = inet.getAddress().getHostAddress();
      return (inet.getAddress() instanceof Inet6Address ? "[" + host + "]" : host)
          + ":"
          + inet.getPort();
    }
    return remote == null ? "unknown" : remote.toString().replaceFirst("^[^/]*/", "");
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    Optional<Identity> caller = Identity.ofPeer(call.getAttributes());
    if (caller.isEmpty()) {
      // TLS let it in (the lab's authority signed its certificate) but it names nobody
      return refuse(
          call,
          Status.UNAUTHENTICATED,
          new Refusal(
              Refusal.Layer.AUTHORIZATION,
              peerAddress(call),
              Optional.empty(),
              method,
              "its certificate names no ftlab identity (" + Identity.PREFIX + "ROLE/NAME)"));
    }
    Optional<Revocations.Revoked> revoked = revocations.of(caller.get());
    if (revoked.isPresent()) {
      return refuse(
          call,
          Status.PERMISSION_DENIED,
          new Refusal(
              Refusal.Layer.REVOCATION,
              peerAddress(call),
              caller,
              method,
              "the certificate of " + caller.get() + " was revoked by " + revoked.get().by()));
    }
    Optional<String> why = Authorization.refusal(method, caller.get());
    if (why.isPresent()) {
      return refuse(
          call,
          Status.PERMISSION_DENIED,
          new Refusal(Refusal.Layer.AUTHORIZATION, peerAddress(call), caller, method, why.get()));
    }
    return Contexts.interceptCall(
        Context.current()
            .withValue(CALLER, caller.get())
            .withValue(CALLER_ADDRESS, peerAddress(call)),
        call,
        headers,
        next);
  }

  private <Q, A> ServerCall.Listener<Q> refuse(
      ServerCall<Q, A> call, Status status, Refusal refusal) {
    call.close(status.withDescription(self + " refused: " + refusal.reason()), new Metadata());
    refused.accept(refusal);
    return new ServerCall.Listener<>() {};
  }
}
