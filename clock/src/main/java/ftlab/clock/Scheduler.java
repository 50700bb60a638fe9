package ftlab.clock;

import io.grpc.Deadline;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Time as a port: what time it is, and running something later. The coordinator's dispatcher gets
 * one (an attempt's timeout, a hedge, the next round of attempts), and so does a node (the next
 * heartbeat, a task's wait). Unit tests drive those timers and deadlines with a fake clock ({@code
 * FakeClock}, in this module's test-jar) instead of waiting. What still runs on real time: gRPC's
 * own deadlines and reconnects, a node's goodbye and drain, and the coordinator's failure detector
 * (which reads time through a {@code LongSupplier} of its own, fake in its tests too).
 */
public interface Scheduler {
  /**
   * Now, in nanoseconds, on a monotonic clock: only differences mean anything (compare by
   * subtraction).
   */
  long nanoTime();

  /** Runs {@code task} after {@code delayNanos}; cancelling the returned handle stops it. */
  Cancellable schedule(Runnable task, long delayNanos);

  /**
   * Schedules {@code task}, or says it could not: a scheduler refuses once its process is shutting
   * down.
   */
  default Optional<Cancellable> scheduleIfRunning(Runnable task, long delayNanos) {
    try {
      return Optional.of(schedule(task, delayNanos));
    } catch (RuntimeException e) {
      return Optional.empty();
    }
  }

  /** A scheduled task that can still be called off. */
  interface Cancellable {
    void cancel();
  }

  /** This clock, for gRPC {@link Deadline}s. */
  default Deadline.Ticker ticker() {
    return new Deadline.Ticker() {
      @Override
      public long nanoTime() {
        return Scheduler.this.nanoTime();
      }
    };
  }

  /**
   * A timer thread of its own for a process: one daemon thread named {@code threadName}, for the
   * life of the process or until shut down; a cancelled task leaves its queue at once (most
   * timeouts are cancelled long before they fall due).
   */
  static ScheduledExecutorService timerThread(String threadName) {
    ScheduledThreadPoolExecutor timer =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
    timer.setRemoveOnCancelPolicy(true);
    return timer;
  }

  /** The production scheduler: {@link System#nanoTime()} and a {@link ScheduledExecutorService}. */
  static Scheduler of(ScheduledExecutorService executor) {
    return new Scheduler() {
      @Override
      public long nanoTime() {
        return System.nanoTime();
      }

      @Override
      public Cancellable schedule(Runnable task, long delayNanos) {
        var future = executor.schedule(task, delayNanos, TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
      }

      @Override
      public Deadline.Ticker ticker() {
        // gRPC's own: deadlines on different tickers cannot be compared, and a client's deadline
        // arrives on this one
        return Deadline.getSystemTicker();
      }
    };
  }
}
