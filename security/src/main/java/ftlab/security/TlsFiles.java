package ftlab.security;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Date;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * One process's TLS material, read from the lab's certificate folder ({@code --tls-dir}, made by
 * {@code ftlab certs}): its own certificate and key ({@code NAME.pem}, {@code NAME.key}) and the
 * authority it trusts ({@code ca.pem}), with the JDK alone. Checked when read, with a sentence for
 * each way it can be wrong (a missing file, a certificate for someone else, an expired one, one not
 * from this authority), so that a process with bad material does not start.
 *
 * <p>It makes the gRPC credentials of every link: {@link #server} for the process's port (mutual: a
 * caller without a certificate from the same authority does not get past the handshake) and {@link
 * #channel(Role)} for its calls, which checks that the server it reached holds the role it expected
 * (a node dials coordinators; a coordinator dials nodes).
 */
public final class TlsFiles {

  /** The authority's certificate, in every process's folder. */
  public static final String CA_CERTIFICATE = "ca.pem";

  /** The authority's key: only where certificates are made, never needed by a process. */
  public static final String CA_KEY = "ca.key";

  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");

  private final Path dir;
  private final Identity self;
  private final Path certificate;
  private final Path key;
  private final X509TrustManager authority;

  private TlsFiles(
      Path dir, Identity self, Path certificate, Path key, X509TrustManager authority) {
    this.dir = dir;
    this.self = self;
    this.certificate = certificate;
    this.key = key;
    this.authority = authority;
  }

  /**
   * The material of the process called {@code name} with this role, from {@code dir}.
   *
   * @throws IOException with a sentence saying what is wrong and what to do
   */
  public static TlsFiles read(Path dir, String name, Role role) throws IOException {
    Identity expected;
    try {
      expected = new Identity(role, name); // a name, not a path
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    if (!Files.isDirectory(dir)) {
      throw new IOException(
          "the TLS folder "
              + dir
              + " does not exist: make it with `ftlab certs --dir "
              + dir
              + "`");
    }
    Path caFile = dir.resolve(CA_CERTIFICATE);
    Path certificateFile = dir.resolve(name + ".pem");
    Path keyFile = dir.resolve(name + ".key");
    for (Path file : new Path[] {caFile, certificateFile, keyFile}) {
      if (!Files.isRegularFile(file)) {
        throw new IOException(
            "the TLS folder "
                + dir
                + " has no "
                + file.getFileName()
                + (file == caFile ? "" : " (no certificate for " + role.word() + " " + name + ")")
                + ": make it with `ftlab certs --dir "
                + dir
                + "`"
                + (file == caFile
                    ? ""
                    : " (it makes node-1..N, coordinator-1..N, client, admin;"
                        + " --node NAME adds one)"));
      }
    }
    X509Certificate ca = readCertificate(caFile);
    X509Certificate own = readCertificate(certificateFile);
    Optional<Identity> named = Identity.of(own);
    if (named.isEmpty()) {
      throw new IOException(
          certificateFile + " names no ftlab identity (a URI " + Identity.PREFIX + "ROLE/NAME)");
    }
    if (!named.get().equals(expected)) {
      throw new IOException(
          certificateFile + " is the certificate of " + named.get() + ", not of " + expected);
    }
    try {
      own.checkValidity();
    } catch (CertificateException e) {
      throw new IOException(
          certificateFile
              + " is not valid now (valid "
              + own.getNotBefore()
              + " to "
              + own.getNotAfter()
              + ", now "
              + new Date()
              + "): make a new one with ftlab certs");
    }
    X509TrustManager trust = trusting(ca);
    try {
      trust.checkClientTrusted(new X509Certificate[] {own}, "UNKNOWN");
    } catch (CertificateException e) {
      throw new IOException(
          certificateFile
              + " was not issued by the authority in "
              + caFile
              + " ("
              + e.getMessage()
              + "): make both with the same `ftlab certs --dir`");
    }
    return new TlsFiles(dir, expected, certificateFile, keyFile, trust);
  }

  /**
   * The material of {@code name}, whatever role its certificate names (a client picks its
   * certificate by name: "client", "admin").
   */
  public static TlsFiles read(Path dir, String name) throws IOException {
    try {
      new Identity(Role.CLIENT, name); // a name, not a path
    } catch (IllegalArgumentException e) {
      throw new IOException(e.getMessage(), e);
    }
    Path certificateFile = dir.resolve(name + ".pem");
    if (Files.isRegularFile(certificateFile)) {
      Optional<Identity> named = Identity.of(readCertificate(certificateFile));
      if (named.isPresent()) {
        return read(dir, name, named.get().role());
      }
    }
    return read(dir, name, Role.CLIENT); // says what is missing or wrong
  }

  /** Who this process is, as its certificate says. */
  public Identity self() {
    return self;
  }

  /** The folder it was read from. */
  public Path dir() {
    return dir;
  }

  /**
   * The credentials of this process's port: TLS with this certificate, and a certificate from the
   * same authority required of every caller (mutual TLS). {@code refused} is told of every
   * connection whose handshake failed, with the caller's address: a certificate from another
   * authority (with the identity it claims), none at all, or plaintext ({@link HandshakeWatch}).
   */
  public ServerCredentials server(Consumer<Refusal> refused) throws IOException {
    SslContext tls =
        GrpcSslContexts.configure(SslContextBuilder.forServer(certificate.toFile(), key.toFile()))
            .trustManager(new ClientCheck(authority))
            .clientAuth(ClientAuth.REQUIRE)
            .build();
    return InternalNettyServerCredentials.create(
        new HandshakeWatch(InternalProtocolNegotiators.serverTls(tls), refused));
  }

  /**
   * The credentials of this process's calls: its certificate for the server to check, and a check
   * that the server's certificate is from the same authority and names {@code serverRole} (not a
   * host name: see {@link Identity}).
   */
  public ChannelCredentials channel(Role serverRole) throws IOException {
    return TlsChannelCredentials.newBuilder()
        .keyManager(certificate.toFile(), key.toFile())
        .trustManager(new ServerRoleCheck(authority, serverRole))
        .build();
  }

  /** A certificate from a PEM file, or a sentence saying why it is not one. */
  public static X509Certificate readCertificate(Path file) throws IOException {
    try {
      byte[] der = pemBody(Files.readString(file, StandardCharsets.US_ASCII), "CERTIFICATE");
      return (X509Certificate)
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(der));
    } catch (NoSuchFileException e) {
      throw new IOException(file + " does not exist", e);
    } catch (CertificateException | IllegalArgumentException e) {
      throw new IOException(file + " is not a PEM certificate: " + e.getMessage(), e);
    }
  }

  /** The bytes of the first PEM block of this type ("CERTIFICATE", "PRIVATE KEY"). */
  static byte[] pemBody(String text, String type) {
    Matcher m = PEM.matcher(text);
    while (m.find()) {
      if (m.group(1).equals(type)) {
        return Base64.getMimeDecoder().decode(m.group(2));
      }
    }
    throw new IllegalArgumentException("no -----BEGIN " + type + "----- block");
  }

  /** DER bytes as a PEM block of this type, 64 characters a line. */
  static String pem(String type, byte[] der) {
    String body =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
  }

  /** The JDK's PKIX trust manager with one trusted certificate: the lab's authority. */
  static X509TrustManager trusting(X509Certificate ca) throws IOException {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      store.setCertificateEntry("ftlab-ca", ca);
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      for (TrustManager manager : factory.getTrustManagers()) {
        if (manager instanceof X509TrustManager x509) {
          return x509;
        }
      }
      throw new IOException("the JDK offers no X.509 trust manager");
    } catch (GeneralSecurityException e) {
      throw new IOException("could not trust the lab's authority: " + e.getMessage(), e);
    }
  }

  /** Why a certificate did not pass, in words: expired, or not from this lab's authority. */
  private static String reason(CertificateException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.security.cert.CertificateExpiredException
          || t instanceof java.security.cert.CertificateNotYetValidException) {
        return "not valid now (" + t.getMessage() + ")";
      }
      if (t instanceof java.security.cert.CertPathValidatorException v
          && v.getReason() == java.security.cert.CertPathValidatorException.BasicReason.EXPIRED) {
        return "expired (" + v.getMessage() + ")";
      }
    }
    return "not from this lab's authority (" + e.getMessage() + ")";
  }

  /** A caller passes if the lab's authority signed its certificate; a refusal is reported. */
  /**
   * A trust manager whose checks need only the chain: the JDK and netty may call the overloads that
   * also give the socket or the engine (for a host name check, which ftlab does not make: see
   * {@link Identity}), and these pass them on.
   */
  private abstract static class ChainCheck extends X509ExtendedTrustManager {
    @Override
    public final void checkClientTrusted(
        X509Certificate[] chain, String authType, java.net.Socket socket)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public final void checkClientTrusted(
        X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
        throws CertificateException {
      checkClientTrusted(chain, authType);
    }

    @Override
    public final void checkServerTrusted(
        X509Certificate[] chain, String authType, java.net.Socket socket)
        throws CertificateException {
      checkServerTrusted(chain, authType);
    }

    @Override
    public final void checkServerTrusted(
        X509Certificate[] chain, String authType, javax.net.ssl.SSLEngine engine)
        throws CertificateException {
      checkServerTrusted(chain, authType);
    }
  }

  private static final class ClientCheck extends ChainCheck {
    private final X509TrustManager authority;

    ClientCheck(X509TrustManager authority) {
      this.authority = authority;
    }

    /**
     * Throws a {@link HandshakeWatch.RefusedCertificate} that carries the identity the certificate
     * claims: the handshake's watcher, which knows the caller's address, reports it.
     */
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      try {
        authority.checkClientTrusted(chain, authType);
      } catch (CertificateException e) {
        Optional<Identity> claimed =
            chain == null || chain.length == 0 ? Optional.empty() : Identity.of(chain[0]);
        throw new HandshakeWatch.RefusedCertificate(
            claimed,
            chain == null || chain.length == 0
                ? "it showed no certificate"
                : "its certificate (issued by "
                    + chain[0].getIssuerX500Principal().getName()
                    + ") did not pass: "
                    + reason(e),
            e);
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a server-side check only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      // none named in the handshake's certificate request: a caller then shows the certificate
      // it has even if another authority made it, and is refused (and reported) here, instead of
      // showing none and being turned away unseen
      return new X509Certificate[0];
    }
  }

  /**
   * A server passes if the lab's authority signed its certificate and that certificate names the
   * expected role. No host name is checked (gRPC asks for one by default): see {@link Identity}.
   */
  private static final class ServerRoleCheck extends ChainCheck {
    private final X509TrustManager authority;
    private final Role expected;

    ServerRoleCheck(X509TrustManager authority, Role expected) {
      this.authority = authority;
      this.expected = expected;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      authority.checkServerTrusted(chain, authType);
      Optional<Identity> identity = Identity.of(chain[0]);
      if (identity.isEmpty() || identity.get().role() != expected) {
        throw new CertificateException(
            "the server's certificate names "
                + identity.map(Identity::toString).orElse("no ftlab identity")
                + ", but a "
                + expected.word()
                + " was expected at this address");
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("a client-side check only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return authority.getAcceptedIssuers();
    }
  }
}
