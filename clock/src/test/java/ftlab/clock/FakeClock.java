package ftlab.clock;

import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One fake clock for a test, and the {@link Scheduler} on it: time stands still until the test
 * calls {@link #advance}, which runs exactly what fell due, in order. The dispatcher's deadlines,
 * timeouts, hedges and rounds and the failure detector's clock all read it, so a test says "the
 * hedge fires at 40 ms and not at 39 ms" without waiting for either, and no unit test waits in real
 * time.
 *
 * <p>Used by the coordinator's dispatch tests and the node's heartbeat tests.
 */
public final class FakeClock implements Scheduler {
  private final List<Task> tasks = new ArrayList<>();

  /** Not 0: nothing may take 0 for "never" (a real nanoTime can be anything, even negative). */
  private long now = 1_000_000_000_000L;

  private static final class Task {
    final long due;
    final long delay;
    final Runnable action;
    boolean cancelled;
    boolean ran;

    Task(long due, long delay, Runnable action) {
      this.due = due;
      this.delay = delay;
      this.action = action;
    }
  }

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  @Override
  public synchronized Cancellable schedule(Runnable action, long delayNanos) {
    Task t = new Task(now + delayNanos, delayNanos, action);
    tasks.add(t);
    return () -> {
      synchronized (FakeClock.this) {
        t.cancelled = true;
        tasks.remove(t); // forgotten, so that a long test does not scan the dead
      }
    };
  }

  /**
   * Moves the clock and runs what became due (outside this object's lock), earliest first; tasks
   * due at the same time run in the order they were scheduled. A task scheduled by a task runs in
   * the same call if it falls due by then.
   */
  public void advance(long nanos) {
    long until;
    synchronized (this) {
      until = now + nanos;
    }
    while (true) {
      Task next;
      synchronized (this) {
        next =
            tasks.stream()
                .filter(t -> !t.ran && !t.cancelled && t.due <= until)
                .min(Comparator.comparingLong(t -> t.due))
                .orElse(null);
        if (next == null) {
          now = until;
          return;
        }
        now = Math.max(now, next.due); // an overdue task runs late, as after a pause
        next.ran = true;
        tasks.remove(next);
      }
      next.action.run();
    }
  }

  /**
   * Moves the clock without running anything, as if the process had been stopped (SIGSTOP) for that
   * long; the next {@link #advance} runs what is overdue, as a process does once it runs again.
   */
  public synchronized void pauseFor(long nanos) {
    now += nanos;
  }

  /**
   * Advances the clock a millisecond at a time until {@code result} is done, and returns it; fails
   * if a minute of fake time passes first (a request that never ends).
   */
  public <T> T runUntilDone(CompletableFuture<T> result) throws InterruptedException {
    return runUntilDone(result, Duration.ofMinutes(1));
  }

  /** As {@link #runUntilDone(CompletableFuture)}, failing after {@code limit} of fake time. */
  public <T> T runUntilDone(CompletableFuture<T> result, Duration limit)
      throws InterruptedException {
    long until = nanoTime() + limit.toNanos();
    while (!result.isDone()) {
      if (nanoTime() - until >= 0) {
        throw new AssertionError("not done after " + limit.toSeconds() + " s of fake time");
      }
      advance(TimeUnit.MILLISECONDS.toNanos(1));
    }
    try {
      return result.get();
    } catch (ExecutionException e) {
      throw Status.fromThrowable(e.getCause()).asRuntimeException();
    }
  }

  /** The delays of the tasks still waiting, in the order they were scheduled. */
  public synchronized List<Long> pendingDelays() {
    return tasks.stream().filter(t -> !t.ran && !t.cancelled).map(t -> t.delay).toList();
  }
}
