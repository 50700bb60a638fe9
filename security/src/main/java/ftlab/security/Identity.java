package ftlab.security;

import io.grpc.Attributes;
import io.grpc.Grpc;
import java.net.URI;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who a peer is: a role and a name, as its certificate says them in a SPIFFE-style URI subject
 * alternative name, {@code spiffe://ftlab/node/node-3}. The name is the process's id (a node's node
 * id, a coordinator's id) or an operator's name for clients and admins.
 *
 * <p>A peer is known by this URI and not by a host name: the lab's processes move between addresses
 * (containers restart with new IPs, pool replicas are named at run time), so TLS checks that the
 * certificate is signed by the lab's authority, and ftlab checks what it names.
 */
public record Identity(Role role, String name) {

  /** The URI's scheme and trust domain: every ftlab identity starts with it. */
  public static final String PREFIX = "spiffe://ftlab/";

  /** Names as the node ids are checked everywhere: 1-128 of letters, digits, '.', '_', '-'. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

  /** The URI type in {@link X509Certificate#getSubjectAlternativeNames()} (RFC 5280's 6). */
  private static final int URI_NAME = 6;

  public Identity {
    if (role == null) {
      throw new IllegalArgumentException("an identity needs a role");
    }
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "'"
              + name
              + "' is not a valid name: 1-128 letters, digits, '.', '_' or '-', starting with a"
              + " letter or digit");
    }
  }

  /** {@code spiffe://ftlab/node/node-3}. */
  public URI uri() {
    return URI.create(PREFIX + role.word() + "/" + name);
  }

  /** The identity a URI names, or empty if it is not an ftlab identity. */
  public static Optional<Identity> fromUri(String uri) {
    if (uri == null || !uri.startsWith(PREFIX)) {
      return Optional.empty();
    }
    String[] parts = uri.substring(PREFIX.length()).split("/", -1);
    if (parts.length != 2) {
      return Optional.empty();
    }
    try {
      return Optional.of(new Identity(Role.of(parts[0]), parts[1]));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The one ftlab identity a certificate names, or empty if it names none (or two). */
  public static Optional<Identity> of(X509Certificate certificate) {
    Collection<List<?>> names;
    try {
      names = certificate.getSubjectAlternativeNames();
    } catch (CertificateParsingException e) {
      return Optional.empty();
    }
    if (names == null) {
      return Optional.empty();
    }
    Optional<Identity> found = Optional.empty();
    for (List<?> name : names) {
      if (name.size() == 2
          && name.get(0) instanceof Integer type
          && type == URI_NAME
          && name.get(1) instanceof String uri) {
        Optional<Identity> identity = fromUri(uri);
        if (identity.isPresent()) {
          if (found.isPresent()) {
            return Optional.empty(); // two identities: trust neither
          }
          found = identity;
        }
      }
    }
    return found;
  }

  /**
   * The identity of the peer of a gRPC call over TLS (from the call's transport attributes), or
   * empty in plaintext or if its certificate names no ftlab identity.
   */
  public static Optional<Identity> ofPeer(Attributes transport) {
    SSLSession session = transport == null ? null : transport.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    if (session == null) {
      return Optional.empty();
    }
    // every call of a connection asks: its certificate is decoded once per TLS session
    if (session.getValue(SESSION_KEY) instanceof Identity known) {
      return Optional.of(known);
    }
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      return Optional.empty();
    }
    Optional<Identity> identity = of(leaf);
    try {
      identity.ifPresent(i -> session.putValue(SESSION_KEY, i));
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      // a session that keeps no values: decoded again next time
    }
    return identity;
  }

  /** Where {@link #ofPeer} keeps a session's identity. */
  private static final String SESSION_KEY = "ftlab.identity";

  /** "node node-3". */
  @Override
  public String toString() {
    return role.word() + " " + name;
  }
}
