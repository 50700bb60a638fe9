package ftlab.security;

import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.ssl.NotSslRecordException;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The server's TLS handshake, watched: every connection that fails it is reported as a {@link
 * Refusal} with the caller's address, including the callers no certificate check ever sees (one
 * that speaks plaintext, one that shows no certificate). gRPC's own server TLS does the work; this
 * sits behind it on the connection and hears how the handshake ended.
 *
 * <p>It uses grpc-netty's {@code Internal*} hooks (the only way to see a connection's address next
 * to its handshake's failure): they are public but not a stable API, so an upgrade of grpc-java may
 * need a look here; {@code MutualTlsTest} fails if the reports stop.
 */
final class HandshakeWatch implements InternalProtocolNegotiator.ProtocolNegotiator {
  private final InternalProtocolNegotiator.ProtocolNegotiator tls;
  private final Consumer<Refusal> refused;

  HandshakeWatch(InternalProtocolNegotiator.ProtocolNegotiator tls, Consumer<Refusal> refused) {
    this.tls = tls;
    this.refused = refused;
  }

  @Override
  public AsciiString scheme() {
    return tls.scheme();
  }

  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    return new Watcher(tls.newHandler(grpcHandler), refused);
  }

  @Override
  public void close() {
    tls.close();
  }

  /**
   * A certificate the lab's check turned away, carrying what the certificate claimed, so that the
   * report made where the address is known can say it.
   */
  static final class RefusedCertificate extends java.security.cert.CertificateException {
    final transient Optional<Identity> claimed;
    final String reason;

    RefusedCertificate(Optional<Identity> claimed, String reason, Throwable cause) {
      super(reason, cause);
      this.claimed = claimed;
      this.reason = reason;
    }
  }

  /**
   * Whether {@code cause} is TLS refusing the caller, rather than the connection closing or being
   * reset before the handshake (a port probe, a health check that only connects, a caller that gave
   * up): those are no attack and are not reported.
   */
  static boolean isRefusal(Throwable cause) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof io.grpc.netty.shaded.io.netty.handler.ssl.SslHandshakeTimeoutException) {
        return false; // connected and said nothing: a probe, not an attack
      }
    }
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof javax.net.ssl.SSLException
          || t instanceof NotSslRecordException
          || t instanceof RefusedCertificate) {
        return true;
      }
    }
    return false;
  }

  /** The refusal for a handshake that failed with {@code cause}, from {@code peer}. */
  static Refusal refusal(Throwable cause, String peer) {
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof RefusedCertificate r) {
        return new Refusal(Refusal.Layer.HANDSHAKE, peer, r.claimed, "", r.reason);
      }
      if (t instanceof NotSslRecordException) {
        return new Refusal(
            Refusal.Layer.HANDSHAKE,
            peer,
            Optional.empty(),
            "",
            "it spoke plaintext, not TLS (started without a certificate folder?)");
      }
    }
    String words = String.valueOf(rootMessage(cause)).toLowerCase(Locale.ROOT);
    if (words.contains("alert")) { // JDK: "Received fatal alert: ...", BoringSSL: "TLSV1_ALERT_..."
      // the caller ended it: it did not accept this process's certificate
      return new Refusal(
          Refusal.Layer.HANDSHAKE,
          peer,
          Optional.empty(),
          "",
          "it ended the handshake itself ("
              + rootMessage(cause)
              + "): it does not trust this process's certificate (another lab's authority?)");
    }
    if (words.contains("empty") && words.contains("certificate")
        || words.contains("certificate required")
        || words.contains("peer_did_not_return_a_certificate")
        || words.contains("null cert chain")) {
      return new Refusal(
          Refusal.Layer.HANDSHAKE, peer, Optional.empty(), "", "it showed no certificate");
    }
    return new Refusal(
        Refusal.Layer.HANDSHAKE,
        peer,
        Optional.empty(),
        "",
        "its TLS handshake failed: " + rootMessage(cause));
  }

  private static String rootMessage(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }

  /** "10.0.3.7:51234" rather than "/10.0.3.7:51234". */
  static String address(SocketAddress a) {
    if (a instanceof InetSocketAddress i) {
      return i.getAddress() == null
          ? i.getHostString() + ":" + i.getPort()
          : i.getAddress().getHostAddress() + ":" + i.getPort();
    }
    return a == null ? "unknown" : a.toString();
  }

  /**
   * Put first on a new connection: it places gRPC's TLS handler before itself, so that a failed
   * handshake's exception passes it on its way down the pipeline. Once the handshake succeeded it
   * reports nothing more (what fails later is not the handshake's business).
   */
  private static final class Watcher extends ChannelInboundHandlerAdapter {
    private final ChannelHandler tls;
    private final Consumer<Refusal> refused;
    private boolean reported;

    Watcher(ChannelHandler tls, Consumer<Refusal> refused) {
      this.tls = tls;
      this.refused = refused;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      ctx.pipeline().addBefore(ctx.name(), null, tls);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      SslHandler ssl = ctx.pipeline().get(SslHandler.class);
      boolean handshakeDone = ssl != null && ssl.handshakeFuture().isSuccess();
      if (!reported && !handshakeDone && isRefusal(cause)) {
        reported = true; // one report per connection, however many exceptions follow
        refused.accept(refusal(cause, address(ctx.channel().remoteAddress())));
      }
      ctx.fireExceptionCaught(cause);
    }
  }
}
