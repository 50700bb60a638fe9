package ftlab.node;

import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * Waits for effects that take real time: tasks running on gRPC's threads, a worker's injected
 * delays, a drain. (The heartbeats do not: they run on each {@link TestNode}'s fake clock.) Tests
 * poll with a bound instead of sleeping and hoping. A passing test usually waits tens of
 * milliseconds; the bound only matters when it fails.
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
