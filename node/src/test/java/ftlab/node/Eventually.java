package ftlab.node;

import ftlab.clock.FakeClock;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;

/**
 * Waits for effects that other threads bring about: a task reaching a worker on gRPC's threads, a
 * task's thread starting its wait, a drain. The waits themselves (an echo's delay, an injected
 * slowness, the heartbeats) run on a fake clock that the test moves on. Tests poll with a bound
 * instead of sleeping and hoping. A passing test usually waits a few milliseconds; the bound only
 * matters when it fails.
 */
final class Eventually {
  /** Generous on purpose: a loaded build machine can be ten times slower than a laptop. */
  static final Duration BOUND = Duration.ofSeconds(5);

  private Eventually() {}

  /**
   * Waits until a task's thread is waiting {@code wait} on {@code clock} (it runs on a thread of
   * its own, and may not have started yet), then moves the clock on by exactly that much.
   */
  static void letWaitPass(FakeClock clock, Duration wait) {
    eventually().until(() -> clock.pendingDelays().contains(wait.toNanos()));
    clock.advance(wait.toNanos());
  }

  /** Polls every 10 ms, for at most {@link #BOUND}. */
  static ConditionFactory eventually() {
    return Awaitility.await()
        .atMost(BOUND)
        .pollDelay(Duration.ZERO)
        .pollInterval(Duration.ofMillis(10));
  }
}
