package ftlab.task;

import ftlab.proto.CountPrimes;
import ftlab.proto.Echo;
import ftlab.proto.Task;
import ftlab.proto.TaskResult;
import java.util.Optional;

/**
 * What every process needs to know about tasks: which ones are allowed, what they cost, what their
 * answer is, and how to print them.
 *
 * <p>Nodes compute with it, coordinators reject bad tasks with it before bothering a node, and the
 * client checks every answer against it. Because tasks are deterministic, {@link #expectedResult}
 * is the same everywhere: that is what makes a WRONG answer detectable.
 */
public final class Tasks {
  /** Largest allowed {@code CountPrimes.to}: sieving needs the primes up to sqrt(to) = 100,000. */
  public static final long MAX_PRIMES_TO = 10_000_000_000L;

  /** Widest allowed prime range: about 0.1 s of one core, so one task cannot hog a node. */
  public static final long MAX_PRIMES_WIDTH = 10_000_000L;

  /** Longest allowed echo delay. */
  public static final int MAX_ECHO_DELAY_MS = 10_000;

  /** Longest allowed echo value. */
  public static final int MAX_ECHO_LENGTH = 256;

  /** Rough prime-sieve speed used to estimate a task's cost; deliberately pessimistic. */
  private static final long NUMBERS_PER_MS = 20_000;

  private Tasks() {}

  /**
   * Says what is wrong with a task, or nothing if it may run. The sentence names the field and the
   * allowed range, for example {@code count_primes.to must be at most 10000000000, got
   * 20000000000}.
   */
  public static Optional<String> problem(Task task) {
    switch (task.getKindCase()) {
      case COUNT_PRIMES -> {
        CountPrimes p = task.getCountPrimes();
        if (p.getFrom() < 0) {
          return Optional.of("count_primes.from must be >= 0, got " + p.getFrom());
        }
        if (p.getTo() <= p.getFrom()) {
          return Optional.of(
              "count_primes.to must be greater than from, got from="
                  + p.getFrom()
                  + " to="
                  + p.getTo());
        }
        if (p.getTo() > MAX_PRIMES_TO) {
          return Optional.of(
              "count_primes.to must be at most " + MAX_PRIMES_TO + ", got " + p.getTo());
        }
        if (p.getTo() - p.getFrom() > MAX_PRIMES_WIDTH) {
          return Optional.of(
              "count_primes range is too wide: to - from must be at most "
                  + MAX_PRIMES_WIDTH
                  + ", got "
                  + (p.getTo() - p.getFrom()));
        }
        return Optional.empty();
      }
      case ECHO -> {
        Echo e = task.getEcho();
        if (e.getDelayMs() < 0 || e.getDelayMs() > MAX_ECHO_DELAY_MS) {
          return Optional.of(
              "echo.delay_ms must be between 0 and "
                  + MAX_ECHO_DELAY_MS
                  + ", got "
                  + e.getDelayMs());
        }
        if (e.getValue().length() > MAX_ECHO_LENGTH) {
          return Optional.of(
              "echo.value must be at most "
                  + MAX_ECHO_LENGTH
                  + " characters, got "
                  + e.getValue().length());
        }
        return Optional.empty();
      }
      default -> {
        return Optional.of("task must set one of count_primes or echo");
      }
    }
  }

  /**
   * The one correct answer to a valid task, computed here and now (an echo's answer is known
   * without waiting). The client uses it to verify answers.
   */
  public static TaskResult expectedResult(Task task) {
    requireValid(task);
    return switch (task.getKindCase()) {
      case COUNT_PRIMES ->
          TaskResult.newBuilder()
              .setPrimeCount(
                  Primes.count(
                      task.getCountPrimes().getFrom(), task.getCountPrimes().getTo(), () -> false))
              .build();
      case ECHO -> TaskResult.newBuilder().setEchoed(task.getEcho().getValue()).build();
      default -> throw new AssertionError(task.getKindCase());
    };
  }

  /**
   * A pessimistic estimate of how long a node needs for the task, in milliseconds: the echo delay,
   * or the range width at {@value #NUMBERS_PER_MS} numbers per millisecond. A coordinator adds this
   * to its per-attempt timeout, so that long tasks are not mistaken for dead nodes.
   */
  public static long expectedMillis(Task task) {
    return switch (task.getKindCase()) {
      case COUNT_PRIMES ->
          (task.getCountPrimes().getTo() - task.getCountPrimes().getFrom()) / NUMBERS_PER_MS;
      case ECHO -> task.getEcho().getDelayMs();
      default -> 0;
    };
  }

  /** A short readable form: {@code primes[100000,110000)} or {@code echo(20ms,"hello")}. */
  public static String describe(Task task) {
    return switch (task.getKindCase()) {
      case COUNT_PRIMES ->
          "primes[" + task.getCountPrimes().getFrom() + "," + task.getCountPrimes().getTo() + ")";
      case ECHO ->
          "echo(" + task.getEcho().getDelayMs() + "ms,\"" + task.getEcho().getValue() + "\")";
      default -> "empty-task";
    };
  }

  /** A short readable form of a result: the count, or the echoed value in quotes. */
  public static String describe(TaskResult result) {
    return switch (result.getValueCase()) {
      case PRIME_COUNT -> Long.toString(result.getPrimeCount());
      case ECHOED -> "\"" + result.getEchoed() + "\"";
      default -> "(no result)";
    };
  }

  private static void requireValid(Task task) {
    problem(task)
        .ifPresent(
            p -> {
              throw new IllegalArgumentException(p);
            });
  }
}
