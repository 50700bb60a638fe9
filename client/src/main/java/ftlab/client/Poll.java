package ftlab.client;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waiting for something by asking again, bounded in time: the polling loop of the CLI and the
 * benchmarks (the cluster being ready, a coordinator showing a change, a process having exited, a
 * first answer in a container's log, a request tried on every coordinator again). The first ask is
 * at once, then one after each pause; the last is at the deadline.
 */
public final class Poll {
  private Poll() {}

  /**
   * Asks {@code check} until it gives a value, and returns it, pausing {@code pause} after each ask
   * that gives none (the ask's own time comes on top); or returns empty once {@code within} has
   * passed.
   */
  public static <T> Optional<T> until(Duration within, Duration pause, Supplier<Optional<T>> check)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      Optional<T> value = check.get();
      if (value.isPresent()) {
        return value;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return Optional.empty();
      }
      TimeUnit.NANOSECONDS.sleep(Math.min(pause.toNanos(), left));
    }
  }

  /** Whether {@code condition} came true within {@code within}, asked again after each pause. */
  public static boolean untilTrue(Duration within, Duration pause, BooleanSupplier condition)
      throws InterruptedException {
    return until(
            within,
            pause,
            () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty())
        .isPresent();
  }
}
