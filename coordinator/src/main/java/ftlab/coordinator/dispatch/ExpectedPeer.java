package ftlab.coordinator.dispatch;

import ftlab.proto.Failures;
import ftlab.security.Identity;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.Optional;

/**
 * A caller's check that the server it reached is the one it meant, by certificate: a coordinator
 * calls node-3 at the address node-3's heartbeats gave, and with mutual TLS the process there must
 * show node-3's certificate. So a node cannot have its work sent to another process by advertising
 * that process's address (a stolen certificate's holder, another node): the call ends at the
 * server's first headers, before any answer is read, {@code UNAVAILABLE} with a sentence and the
 * trailer {@link Failures#ANSWERED_BY} naming who was there (as a wrong answer's node id would: the
 * connection is dropped and the name looked up again; no evidence against the node meant).
 *
 * <p>A call without {@link #EXPECTED}, or in plaintext (no certificate to read), is not checked.
 */
public final class ExpectedPeer implements ClientInterceptor {

  /** The identity the server of this call must show. */
  public static final CallOptions.Key<Identity> EXPECTED =
      CallOptions.Key.create("ftlab-expected-peer");

  @Override
  public <Q, A> ClientCall<Q, A> interceptCall(
      MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
    Identity expected = options.getOption(EXPECTED);
    ClientCall<Q, A> call = next.newCall(method, options);
    if (expected == null) {
      return call;
    }
    return new SimpleForwardingClientCall<>(call) {
      @Override
      public void start(Listener<A> listener, Metadata headers) {
        super.start(
            new SimpleForwardingClientCallListener<>(listener) {
              private Status refused;

              @Override
              public void onHeaders(Metadata serverHeaders) {
                Optional<Identity> seen = Identity.ofPeer(call.getAttributes());
                if (seen.isPresent() && !seen.get().equals(expected)) {
                  refused =
                      Status.UNAVAILABLE.withDescription(
                          "the server there showed the certificate of "
                              + seen.get()
                              + ", not of "
                              + expected
                              + ": the address is not "
                              + expected.name()
                              + "'s");
                  call.cancel(refused.getDescription(), null);
                  return;
                }
                super.onHeaders(serverHeaders);
              }

              @Override
              public void onMessage(A message) {
                if (refused == null) {
                  super.onMessage(message);
                }
              }

              @Override
              public void onClose(Status status, Metadata trailers) {
                if (refused == null) {
                  super.onClose(status, trailers);
                } else {
                  Identity seen = Identity.ofPeer(call.getAttributes()).orElseThrow();
                  super.onClose(refused, Failures.answeredBy(seen.name()));
                }
              }
            },
            headers);
      }
    };
  }
}
