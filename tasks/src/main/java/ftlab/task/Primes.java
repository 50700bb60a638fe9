package ftlab.task;

import java.util.BitSet;
import java.util.function.BooleanSupplier;

/**
 * Counts primes in a range with a segmented sieve of Eratosthenes: sieve the primes up to sqrt(to)
 * once, then cross their multiples out of the range one segment at a time. Cost grows with the
 * width of the range (about 10 ms per million numbers on a laptop core), not with its height.
 */
public final class Primes {
  /** Numbers per segment: small enough to stay in cache and to notice cancellation quickly. */
  private static final int SEGMENT = 1 << 16;

  private Primes() {}

  /**
   * Counts the primes p with {@code from <= p < to}.
   *
   * @param cancelled polled between segments; when it returns true the count stops and {@link
   *     CancelledException} is thrown, so a node stops work its caller no longer wants
   */
  public static long count(long from, long to, BooleanSupplier cancelled) {
    if (from < 0 || to < from) {
      throw new IllegalArgumentException("bad range [" + from + ", " + to + ")");
    }
    int[] small = primesUpTo((int) Math.sqrt((double) to) + 1);
    long count = 0;
    for (long low = Math.max(from, 2); low < to; low += SEGMENT) {
      if (cancelled.getAsBoolean()) {
        throw new CancelledException();
      }
      long high = Math.min(low + SEGMENT, to);
      count += countSegment(low, high, small);
    }
    return count;
  }

  /** Counts primes in [low, high), given every prime up to sqrt(high). */
  private static int countSegment(long low, long high, int[] small) {
    int width = (int) (high - low);
    BitSet composite = new BitSet(width);
    for (int p : small) {
      long square = (long) p * p;
      if (square >= high) {
        break;
      }
      // first multiple of p in the segment that is not p itself
      long start = Math.max(square, ((low + p - 1) / p) * p);
      for (long m = start; m < high; m += p) {
        composite.set((int) (m - low));
      }
    }
    return width - composite.cardinality();
  }

  /** Every prime up to and including n, by the plain sieve. */
  static int[] primesUpTo(int n) {
    BitSet composite = new BitSet(n + 1);
    int found = 0;
    int[] primes = new int[Math.max(16, n / 4)];
    for (int i = 2; i <= n; i++) {
      if (!composite.get(i)) {
        if (found == primes.length) {
          primes = java.util.Arrays.copyOf(primes, primes.length * 2);
        }
        primes[found++] = i;
        for (long m = (long) i * i; m <= n; m += i) {
          composite.set((int) m);
        }
      }
    }
    return java.util.Arrays.copyOf(primes, found);
  }

  /**
   * Thrown when the caller of a task cancelled it (by {@link #count}, and by nodes for any task).
   */
  public static final class CancelledException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CancelledException() {
      super("prime count cancelled", null, false, false);
    }
  }
}
