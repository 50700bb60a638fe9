package ftlab.proto;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.net.SocketAddress;
import java.util.function.Consumer;

/**
 * A client interceptor that tells which local address a call's answer came over: this process's end
 * of the connection. A process cut off the network and connected again may have another address,
 * and a connection from the lost one leads nowhere while gRPC still sees it READY; the node's
 * heartbeat links and the coordinator's calls to nodes note their ends with this to find such
 * connections (docs/architecture.md, "Heartbeats").
 */
public final class LocalEnds implements ClientInterceptor {
  private final Consumer<SocketAddress> noted;

  private LocalEnds(Consumer<SocketAddress> noted) {
    this.noted = noted;
  }

  /** Hands {@code noted} the local end of each call that gets an answer's headers. */
  public static LocalEnds to(Consumer<SocketAddress> noted) {
    return new LocalEnds(noted);
  }

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(
      MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    ClientCall<Q, R> call = next.newCall(method, options);
    return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
      @Override
      public void start(Listener<R> listener, Metadata headers) {
        super.start(
            new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onHeaders(Metadata answered) {
                SocketAddress at = call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR);
                if (at != null) {
                  noted.accept(at);
                }
                super.onHeaders(answered);
              }
            },
            headers);
      }
    };
  }
}
