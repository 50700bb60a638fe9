package ftlab.coordinator.limits;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A rate limit per caller: a token bucket for each key (a client's connection, a node on a
 * connection) that holds one second's worth of calls and refills at the limit's rate, on a clock
 * passed in. A caller may send {@code perSecond} calls in a burst and then {@code perSecond} a
 * second; a call with no token left is refused, and the refusal says the limit and when the next
 * token comes.
 *
 * <p>The number of buckets is bounded ({@code maxKeys}): a new key past the bound takes the place
 * of the bucket used longest ago. A bucket unused for a second is full again, so dropping it
 * changes nothing; one dropped sooner gives its caller a fresh burst, which is the price of a bound
 * that a flood of new connections cannot grow.
 */
public final class RateLimit {
  /**
   * A limit, with the words for its sentence.
   *
   * @param perSecond calls per second per key, and the burst; 0 turns the limit off
   * @param calls what is counted, plural: "requests", "heartbeats"
   * @param per what one key is: "from one client connection"
   * @param setting where the limit is set: "--client-rate-limit"
   */
  public record Limit(int perSecond, String calls, String per, String setting) {
    public Limit {
      if (perSecond < 0 || perSecond > 1_000_000) {
        throw new IllegalArgumentException(
            setting + " must be 0 (no limit) to 1000000 per second, got " + perSecond);
      }
    }

    public boolean off() {
      return perSecond == 0;
    }

    /** "2000 requests/s from one client connection", or "no limit (--client-rate-limit 0)". */
    public String describe() {
      return off() ? "no limit (" + setting + " 0)" : perSecond + " " + calls + "/s " + per;
    }
  }

  /**
   * A refused call.
   *
   * @param retryAfterMillis when the key's next token comes, rounded up
   * @param reason "more than 2000 requests/s from one client connection, the limit
   *     (--client-rate-limit): try again in 1 ms"
   */
  public record Refused(long retryAfterMillis, String reason) {}

  private static final long SECOND = 1_000_000_000L;

  private final Limit limit;
  private final Map<String, Bucket> buckets;

  /**
   * A bucket kept as a time, not a count (the generic cell rate algorithm): it holds (now -
   * emptyAt) / (one token's time) tokens, at most one second's worth.
   */
  private static final class Bucket {
    long emptyAtNanos;

    Bucket(long emptyAtNanos) {
      this.emptyAtNanos = emptyAtNanos;
    }
  }

  public RateLimit(Limit limit, int maxKeys) {
    if (maxKeys < 1) {
      throw new IllegalArgumentException("maxKeys must be at least 1, got " + maxKeys);
    }
    this.limit = limit;
    this.buckets =
        new LinkedHashMap<>(16, 0.75f, true) {
          @Override
          protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
            return size() > maxKeys;
          }
        };
  }

  public Limit limit() {
    return limit;
  }

  /** Takes a token for {@code key} at {@code nowNanos}, or says why there is none. */
  public synchronized Optional<Refused> take(String key, long nowNanos) {
    if (limit.off()) {
      return Optional.empty();
    }
    long perToken = SECOND / limit.perSecond();
    // a full bucket: one second's worth of tokens, as if it had been empty a second ago
    Bucket b = buckets.computeIfAbsent(key, k -> new Bucket(nowNanos - SECOND));
    // capped at full; times compared by their difference, as System.nanoTime() asks
    long full = nowNanos - SECOND;
    long emptyAt = b.emptyAtNanos - full < 0 ? full : b.emptyAtNanos;
    long next = emptyAt + perToken; // taking a token moves the empty moment one token on
    if (next - nowNanos > 0) {
      long waitMillis = Math.max(1, (next - nowNanos + 999_999) / 1_000_000);
      return Optional.of(
          new Refused(
              waitMillis,
              "more than "
                  + limit.describe()
                  + ", the limit ("
                  + limit.setting()
                  + "): try again in "
                  + waitMillis
                  + " ms"));
    }
    b.emptyAtNanos = next;
    return Optional.empty();
  }

  /** How many keys have a bucket now. */
  public synchronized int keys() {
    return buckets.size();
  }
}
