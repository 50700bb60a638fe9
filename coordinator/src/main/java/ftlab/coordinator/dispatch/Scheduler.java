package ftlab.coordinator.dispatch;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The dispatcher's one way to act later: run something after a delay (a hedge, the next round of
 * attempts). A port, so that unit tests drive it with a fake clock instead of waiting.
 */
@FunctionalInterface
public interface Scheduler {
  /** Runs {@code task} after {@code delayNanos}; cancelling the returned handle stops it. */
  Cancellable schedule(Runnable task, long delayNanos);

  /** A scheduled task that can still be called off. */
  interface Cancellable {
    void cancel();
  }

  /** The production scheduler: a {@link ScheduledExecutorService}. */
  static Scheduler of(ScheduledExecutorService executor) {
    return (task, delayNanos) -> {
      var future = executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
      return () -> future.cancel(false);
    };
  }
}
