package ftlab.node;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * Waits for effects that take real time. The node's heartbeats run on a real timer (every 20 ms in
 * these tests), so some tests must wait for them; they poll with a bound instead of sleeping and
 * hoping. A passing test usually waits tens of milliseconds; the bound only matters when it fails.
 */
final class Eventually {
  /** Generous on purpose: a loaded build machine can be ten times slower than a laptop. */
  static final Duration BOUND = Duration.ofSeconds(5);

  private Eventually() {}

  /** Polls every 10 ms, for at most {@link #BOUND}. */
  static ConditionFactory eventually() {
    return Awaitility.await()
        .atMost(BOUND)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(10));
  }
}
