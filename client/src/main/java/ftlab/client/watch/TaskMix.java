package ftlab.client.watch;

import ftlab.proto.CountPrimes;
import ftlab.proto.Echo;
import ftlab.proto.Task;
import java.util.SplittableRandom;

/**
 * The tasks a watch sends: a reproducible stream (same seed, same tasks) of prime counts over
 * random ranges and echoes with random delays.
 *
 * @param kind "primes", "echo" or "mix" (4 prime counts for every echo)
 * @param primesWidth width of each prime range; 20,000 numbers take about 1 ms
 * @param echoDelayMs largest echo delay; each echo waits between 0 and this
 */
public record TaskMix(String kind, long seed, long primesWidth, int echoDelayMs) {

  public static final TaskMix DEFAULT = new TaskMix("mix", 1, 20_000, 20);

  /** Prime ranges start below this, so every task is different but equally cheap. */
  private static final long PRIMES_FROM_MAX = 1_000_000_000L;

  public TaskMix {
    if (!kind.equals("primes") && !kind.equals("echo") && !kind.equals("mix")) {
      throw new IllegalArgumentException(
          "task kind must be primes, echo or mix, got '" + kind + "'");
    }
    if (primesWidth < 1 || primesWidth > ftlab.task.Tasks.MAX_PRIMES_WIDTH) {
      throw new IllegalArgumentException(
          "prime range width must be between 1 and "
              + ftlab.task.Tasks.MAX_PRIMES_WIDTH
              + ", got "
              + primesWidth);
    }
    if (echoDelayMs < 0 || echoDelayMs > ftlab.task.Tasks.MAX_ECHO_DELAY_MS) {
      throw new IllegalArgumentException(
          "echo delay must be between 0 and "
              + ftlab.task.Tasks.MAX_ECHO_DELAY_MS
              + " ms, got "
              + echoDelayMs);
    }
  }

  /** Request number {@code id}'s task: depends only on the seed and the id. */
  public Task task(long id) {
    SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + id);
    boolean echo = kind.equals("echo") || (kind.equals("mix") && r.nextInt(5) == 0);
    if (echo) {
      return Task.newBuilder()
          .setEcho(Echo.newBuilder().setDelayMs(r.nextInt(echoDelayMs + 1)).setValue("r" + id))
          .build();
    }
    long from = r.nextLong(PRIMES_FROM_MAX);
    return Task.newBuilder()
        .setCountPrimes(CountPrimes.newBuilder().setFrom(from).setTo(from + primesWidth))
        .build();
  }
}
