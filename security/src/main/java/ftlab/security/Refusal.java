package ftlab.security;

import java.util.Optional;

/**
 * A call or connection that security turned away, for the log, the meters, {@code ftlab status} and
 * the dashboard: which layer caught it, who called from where, claiming to be whom, and why.
 *
 * @param layer the defence that caught it
 * @param peer the caller's address ("10.0.3.7:51234"), or "unknown" where the transport does not
 *     say it
 * @param identity the identity the caller's certificate names, if it named one
 * @param claim what the caller claimed beyond its certificate (the node id in its heartbeat, the
 *     method it called), or empty
 * @param reason the sentence the caller and the log get
 */
public record Refusal(
    Layer layer, String peer, Optional<Identity> identity, String claim, String reason) {

  /** The defences, in the order a call meets them. */
  public enum Layer {
    /**
     * TLS: a certificate the lab's authority did not sign, no certificate at all, or plaintext
     * ({@link HandshakeWatch}); a connection closed before its handshake (a port probe) is not one.
     */
    HANDSHAKE,
    /** The caller's role may not call this method. */
    AUTHORIZATION,
    /** A node's certificate speaking for another node id. */
    IDENTITY,
    /** A certificate revoked by an operator. */
    REVOCATION,
    /**
     * Calls above a rate limit: a client's requests, a node's heartbeats (in plaintext too: it
     * needs no certificate).
     */
    RATE_LIMIT;

    /** "handshake", as in meters and status lines. */
    public String word() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** One line for the log: "authorization refused client client at 127.0.0.1:5123: ...". */
  public String sentence() {
    return layer.word()
        + " refused "
        + identity.map(Identity::toString).orElse("a caller without an ftlab identity")
        + " at "
        + peer
        + (claim.isEmpty() ? "" : " (" + claim + ")")
        + ": "
        + reason;
  }
}
