package ftlab.node;

import ftlab.proto.HeartbeatReply;
import ftlab.security.Identity;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.util.Optional;

/**
 * With mutual TLS, a heartbeat reply's coordinator is the one its certificate names, not the one it
 * writes in the reply: the node's channels put the certificate's name into {@code coordinator_id}
 * before anyone reads it. So what a coordinator says about revocations ({@link RevocationsHeard})
 * is held against its own name, and one coordinator cannot speak for another.
 */
final class CoordinatorNameFromCertificate implements ClientInterceptor {
  @Override
  public <Q, A> ClientCall<Q, A> interceptCall(
      MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
    ClientCall<Q, A> call = next.newCall(method, options);
    return new SimpleForwardingClientCall<>(call) {
      @Override
      public void start(Listener<A> listener, Metadata headers) {
        super.start(
            new SimpleForwardingClientCallListener<>(listener) {
              @Override
              @SuppressWarnings("unchecked")
              public void onMessage(A message) {
                if (message instanceof HeartbeatReply reply) {
                  Optional<Identity> peer = Identity.ofPeer(call.getAttributes());
                  if (peer.isPresent()) {
                    message = (A) reply.toBuilder().setCoordinatorId(peer.get().name()).build();
                  }
                }
                super.onMessage(message);
              }
            },
            headers);
      }
    };
  }
}
