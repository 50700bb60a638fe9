package ftlab.coordinator.limits;

/**
 * A coordinator's rate limits (docs/security.md): requests per client connection, and heartbeats
 * per node id per connection. Keyed by connection, so that a forger flooding beats as node-1 from
 * its own connection uses up its own bucket, not the real node-1's.
 *
 * @param requests Submit calls per second from one client connection (the client then tries its
 *     other coordinators, and comes back after a while)
 * @param heartbeats heartbeats per second for one node id on one connection; a node beats once per
 *     interval, 10 per second at the default 100 ms and 100 at the shortest interval a coordinator
 *     believes (10 ms)
 */
public record RateLimits(RateLimit.Limit requests, RateLimit.Limit heartbeats) {
  /** How many callers each limit keeps a bucket for, at most. */
  public static final int MAX_KEYS = 4_096;

  public static final int DEFAULT_REQUESTS_PER_SECOND = 2_000;
  public static final int DEFAULT_HEARTBEATS_PER_SECOND = 200;

  public static final RateLimits DEFAULT =
      of(DEFAULT_REQUESTS_PER_SECOND, DEFAULT_HEARTBEATS_PER_SECOND);

  /** No limit on either: for benchmarks that measure the coordinator itself. */
  public static final RateLimits NONE = of(0, 0);

  public static RateLimits of(int requestsPerSecond, int heartbeatsPerSecond) {
    return new RateLimits(
        new RateLimit.Limit(
            requestsPerSecond, "requests", "from one client connection", "--client-rate-limit"),
        new RateLimit.Limit(
            heartbeatsPerSecond,
            "heartbeats",
            "for one node id on one connection",
            "--heartbeat-rate-limit"));
  }
}
