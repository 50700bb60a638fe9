package ftlab.security;

import io.grpc.Status;
import java.util.Optional;

/**
 * A sentence for a failed connection that TLS explains better than gRPC's words: the two sides not
 * set up alike (one with {@code --tls-dir}, the other without), or certificates from two different
 * authorities. gRPC says "Network closed for unknown reason" or "not an SSL/TLS record:
 * 0000120400..." and logs nothing more; a learner who mixed the two setups should read what to do
 * instead.
 */
public final class TlsTrouble {
  private TlsTrouble() {}

  /** What went wrong, in a sentence, or empty if this failure is not about TLS. */
  public static Optional<String> explain(Status status) {
    if (status.getCode() != Status.Code.UNAVAILABLE) {
      return Optional.empty();
    }
    String all = messages(status);
    String lower = all.toLowerCase(java.util.Locale.ROOT);
    if (all.contains("not an SSL/TLS record")) {
      return Optional.of(
          "the other side speaks plaintext, and this one mutual TLS (--tls-dir): start both with"
              + " --tls-dir, or neither");
    }
    if (all.contains("PKIX path") || all.contains("unable to find valid certification path")) {
      return Optional.of(
          "the other side's certificate is not from this lab's authority (ca.pem in --tls-dir):"
              + " make all certificates with the same `ftlab certs --dir`");
    }
    // the JDK's words, and BoringSSL's (gRPC's netty runs it): a server whose certificate check
    // throws answers with an internal_error alert
    if (lower.contains("bad_certificate")
        || lower.contains("certificate_unknown")
        || lower.contains("unknown_ca")
        || lower.contains("certificate_required")
        || lower.contains("alert_internal_error")) {
      return Optional.of(
          "the other side refused this side's certificate (not from its authority, or none):"
              + " make all certificates with the same `ftlab certs --dir`");
    }
    int i = all.indexOf("the server's certificate names");
    if (i >= 0) {
      int end = all.indexOf('\n', i);
      return Optional.of(all.substring(i, end < 0 ? all.length() : end));
    }
    return Optional.empty();
  }

  /**
   * For a plaintext caller: a hint to add when a call ends with "Network closed for unknown
   * reason", which is what gRPC says both when a TLS server hangs up on plaintext and when a
   * plaintext peer dies mid-call (so it is a question, not a verdict), or empty.
   */
  public static Optional<String> plaintextHint(Status status) {
    return status.getCode() == Status.Code.UNAVAILABLE
            && messages(status).contains("Network closed for unknown reason")
        ? Optional.of("if the other side runs with --tls-dir (mutual TLS), this side needs it too")
        : Optional.empty();
  }

  private static String messages(Status status) {
    StringBuilder all = new StringBuilder(String.valueOf(status.getDescription())).append('\n');
    for (Throwable t = status.getCause(); t != null; t = t.getCause()) {
      all.append(t.getMessage()).append('\n');
    }
    return all.toString();
  }
}
