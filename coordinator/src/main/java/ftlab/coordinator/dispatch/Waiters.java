package ftlab.coordinator.dispatch;

import java.util.Comparator;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * The requests paused between rounds (every node they tried was full, or failed), oldest request
 * first. When an attempt that held a task slot at its node ends, the slot is free: the oldest
 * waiter starts its next round at once instead of sleeping out its pause (up to {@link
 * Rounds#MAX_PAUSE_NANOS}), while newer requests, and the next request a client sends, would
 * otherwise take the slot before it. That bounds a waiting request's time by the requests ahead of
 * it, not by luck. The line is one coordinator's: slots that another coordinator's attempts free do
 * not wake this one's waiters (their pauses' timers do, as before).
 *
 * <pre>
 *   event                                   waiters               effect
 *   a request pauses                        + (its start time)    its timer is set as before
 *     (the nodes refused it, failed, or
 *     were full by this coordinator's count
 *     and were not asked)
 *   an attempt that held a slot ends        - the oldest          that request's next round now
 *     (answered; its call cancelled: a      (one that no longer   (the next oldest instead)
 *     loser, a timeout; not a failure the   waits: dropped)
 *     node sent back at once: full,
 *     unreachable)
 *   a pause ends by its timer               - that request         its next round, as before
 *   a request finds every node full, but    (not added)           its next round at once
 *     a slot was freed while it looked
 *   a woken request finds every node        + again, at its old   the slot is not offered on
 *     full again                              place                 (someone took it)
 *   a woken request cannot use the room     + again, at its old   the next oldest is offered
 *     there is (its voters have answered)     place                 the slot
 * </pre>
 *
 * A waiter woken by a slot leaves its timer behind, which then finds the pause over and does
 * nothing; each pause has its own waiter, so a late wake never starts a later pause's round.
 */
final class Waiters {
  /** One paused request, until its next round. */
  static final class Waiter {
    private final long startNanos;
    private final long order;
    private final BooleanSupplier wake;

    private Waiter(long startNanos, long order, BooleanSupplier wake) {
      this.startNanos = startNanos;
      this.order = order;
      this.wake = wake;
    }
  }

  /** Oldest request first; of the same age, the first to pause. Total: orders are unique. */
  private static final Comparator<Waiter> OLDEST_FIRST =
      Comparator.<Waiter>comparingLong(w -> w.startNanos).thenComparingLong(w -> w.order);

  // guarded by this
  private final TreeSet<Waiter> line = new TreeSet<>(OLDEST_FIRST);
  private long made;

  /**
   * Slots freed so far: a request that read it before finding every node full can tell. Written
   * under the lock, read without it (every event of every request reads it).
   */
  private volatile long freed;

  /**
   * A waiter for a request that started at {@code startNanos} (on the scheduler's clock), not yet
   * waiting.
   *
   * @param wake starts the request's next round now, if it still waits for it: true if that round
   *     asked a node (took the slot) or found every node full again (someone else took it), false
   *     if the request no longer waited, its round ended it, or it cannot use the room there is (a
   *     vote request whose voters answered: it paused again, and joined the line again): then the
   *     slot goes to the next
   */
  synchronized Waiter waiter(long startNanos, BooleanSupplier wake) {
    return new Waiter(startNanos, made++, wake);
  }

  /** Joins the line. A waiter joins once: each pause makes its own. */
  synchronized void add(Waiter w) {
    if (!line.add(w)) {
      throw new IllegalStateException("a waiter joins the line once");
    }
  }

  /** How many slots were freed so far: read before looking at the nodes. */
  long freed() {
    return freed;
  }

  /**
   * Joins the line, unless a slot was freed since {@code seen} ({@link #freed}): a request that
   * found every node full may have missed that slot's wake-up (it was not in line yet), and should
   * look again at once instead. Returns whether it joined.
   */
  synchronized boolean addUnlessFreedSince(Waiter w, long seen) {
    if (freed != seen) {
      return false;
    }
    add(w);
    return true;
  }

  /** The request's pause ended another way (its timer, its end): it no longer waits. */
  synchronized void remove(Waiter w) {
    line.remove(w);
  }

  /** How many requests wait for a slot now. */
  synchronized int size() {
    return line.size();
  }

  /**
   * A task slot is free: the oldest request that still waits starts its next round, on this thread
   * (never under a request's lock; a request adds and removes itself under its own lock, and this
   * lock is never held while a request's is taken). Returns whether one took the slot.
   *
   * <p>The line is walked from the oldest, each request that waited when the slot freed offered it
   * once at most: a woken request that pauses again joins the line again at once, at its old place
   * (it is as old as it was) under a new waiter, which this walk passes over (made after it began);
   * so the requests behind it get their turn, and every waiter stays in the line, where a slot
   * freed on another thread meanwhile finds it.
   */
  boolean slotFreed() {
    long firstNew;
    synchronized (this) {
      freed++;
      firstNew = made;
    }
    Waiter last = null;
    while (true) {
      Waiter w;
      synchronized (this) {
        w = last == null ? (line.isEmpty() ? null : line.first()) : line.higher(last);
        while (w != null && w.order >= firstNew) {
          w = line.higher(w); // joined (again) since the slot freed: not offered it
        }
        if (w == null) {
          return false;
        }
        line.remove(w);
      }
      if (w.wake.getAsBoolean()) {
        return true;
      }
      // it had stopped waiting (its timer, its end) a moment before, or cannot use the slot: the
      // slot goes to the next, younger, waiter
      last = w;
    }
  }
}
