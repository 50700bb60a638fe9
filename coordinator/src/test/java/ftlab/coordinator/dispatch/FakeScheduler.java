package ftlab.coordinator.dispatch;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A {@link Scheduler} on a fake clock: nothing runs until the test calls {@link #advance}, and then
 * exactly what is due, in order. Lets a test say "the hedge fires at 40 ms and not at 39 ms"
 * without waiting for either.
 */
final class FakeScheduler implements Scheduler {
  private final List<Task> tasks = new ArrayList<>();
  private long now;

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
  public synchronized Cancellable schedule(Runnable action, long delayNanos) {
    Task t = new Task(now + delayNanos, delayNanos, action);
    tasks.add(t);
    return () -> {
      synchronized (FakeScheduler.this) {
        t.cancelled = true;
      }
    };
  }

  /** Moves the clock and runs what became due (outside this object's lock), earliest first. */
  void advance(long nanos) {
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
        now = next.due;
        next.ran = true;
      }
      next.action.run();
    }
  }

  /** The delays of the tasks still waiting, in the order they were scheduled. */
  synchronized List<Long> pendingDelays() {
    return tasks.stream().filter(t -> !t.ran && !t.cancelled).map(t -> t.delay).toList();
  }
}
