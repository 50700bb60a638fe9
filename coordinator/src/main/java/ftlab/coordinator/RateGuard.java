package ftlab.coordinator;

import ftlab.coordinator.limits.RateLimit;
import ftlab.coordinator.limits.RateLimits;
import ftlab.proto.BadRequests;
import ftlab.security.AuthorizationInterceptor;
import ftlab.security.DefenseScoreboard;
import ftlab.security.Refusal;
import io.grpc.Status;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The coordinator's rate limits at its services' doors: takes a token for the current call's caller
 * (its connection's address, from the call's context), and turns a refusal into a {@code
 * RESOURCE_EXHAUSTED} with the limit's sentence, recorded on the defence scoreboard (counted,
 * logged once per 10 s, shown by {@code ftlab status}).
 */
final class RateGuard {
  private final String self;
  private final RateLimit requests;
  private final RateLimit heartbeats;
  private final DefenseScoreboard defenses;
  private final LongSupplier nanoTime;

  RateGuard(String self, RateLimits limits, DefenseScoreboard defenses, LongSupplier nanoTime) {
    this.self = self;
    this.requests = new RateLimit(limits.requests(), RateLimits.MAX_KEYS);
    this.heartbeats = new RateLimit(limits.heartbeats(), RateLimits.MAX_KEYS);
    this.defenses = defenses;
    this.nanoTime = nanoTime;
  }

  /** A client's request: refused if its connection sent more than its limit. */
  Optional<Status> request() {
    if (requests.limit().off()) {
      return Optional.empty();
    }
    String from = AuthorizationInterceptor.callerAddress();
    return requests
        .take(from, nanoTime.getAsLong())
        .map(r -> refuse(from, "Submit", self + " refused the request: " + r.reason(), r));
  }

  /**
   * A node's heartbeat: refused if beats for this id on this connection passed the limit. Every
   * beat read takes a token, also one whose sender already gave up on it (exempting those would let
   * a forger with tiny deadlines past the limit). So after a pause of this coordinator longer than
   * about 40 s, the beats a node resent meanwhile (about 5 a second) use up its burst, and its next
   * beats are refused for up to a second.
   */
  Optional<Status> heartbeat(String nodeId) {
    if (heartbeats.limit().off()) {
      return Optional.empty();
    }
    String from = AuthorizationInterceptor.callerAddress();
    return heartbeats
        .take(from + " " + nodeId, nanoTime.getAsLong())
        .map(
            r ->
                refuse(
                    from,
                    "heartbeat as " + BadRequests.quote(nodeId),
                    self + " refused the heartbeat of " + nodeId + ": " + r.reason(),
                    r));
  }

  private Status refuse(String from, String claim, String sentence, RateLimit.Refused r) {
    defenses.record(
        new Refusal(
            Refusal.Layer.RATE_LIMIT, from, AuthorizationInterceptor.caller(), claim, r.reason()));
    return Status.RESOURCE_EXHAUSTED.withDescription(sentence);
  }
}
