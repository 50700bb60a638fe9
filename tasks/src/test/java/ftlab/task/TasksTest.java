package ftlab.task;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.proto.CountPrimes;
import ftlab.proto.Echo;
import ftlab.proto.Task;
import org.junit.jupiter.api.Test;

class TasksTest {
  private static Task primes(long from, long to) {
    return Task.newBuilder()
        .setCountPrimes(CountPrimes.newBuilder().setFrom(from).setTo(to))
        .build();
  }

  private static Task echo(int delay, String value) {
    return Task.newBuilder().setEcho(Echo.newBuilder().setDelayMs(delay).setValue(value)).build();
  }

  @Test
  void countsKnownPrimeCounts() {
    // pi(10) = 4, pi(100) = 25, pi(10^6) = 78498, pi(10^7) = 664579
    assertThat(Primes.count(0, 11, () -> false)).isEqualTo(4);
    assertThat(Primes.count(0, 101, () -> false)).isEqualTo(25);
    assertThat(Primes.count(0, 1_000_001, () -> false)).isEqualTo(78_498);
    assertThat(Primes.count(0, 10_000_001, () -> false)).isEqualTo(664_579);
    // a range high up: pi(10^10) - pi(10^10 - 10^5): counted against trial division below
    long from = 10_000_000_000L - 100_000;
    assertThat(Primes.count(from, 10_000_000_000L, () -> false))
        .isEqualTo(trialDivisionCount(from, 10_000_000_000L));
  }

  @Test
  void smallRangesMatchTrialDivision() {
    for (long from = 0; from < 300; from += 7) {
      for (long to = from + 1; to < from + 200; to += 13) {
        assertThat(Primes.count(from, to, () -> false))
            .as("[%d,%d)", from, to)
            .isEqualTo(trialDivisionCount(from, to));
      }
    }
  }

  @Test
  void stopsWhenCancelled() {
    assertThatThrownBy(() -> Primes.count(0, 5_000_000, () -> true))
        .isInstanceOf(Primes.CancelledException.class);
  }

  @Test
  void problemsNameTheFieldAndTheRange() {
    assertThat(Tasks.problem(primes(10, 20))).isEmpty();
    assertThat(Tasks.problem(primes(-1, 20))).contains("count_primes.from must be >= 0, got -1");
    assertThat(Tasks.problem(primes(20, 20)))
        .contains("count_primes.to must be greater than from, got from=20 to=20");
    assertThat(Tasks.problem(primes(0, 20_000_000_000L)))
        .contains("count_primes.to must be at most 10000000000, got 20000000000");
    assertThat(Tasks.problem(primes(0, 10_000_001)))
        .contains(
            "count_primes range is too wide: to - from must be at most 10000000, got 10000001");
    assertThat(Tasks.problem(echo(10_001, "x")))
        .contains("echo.delay_ms must be between 0 and 10000, got 10001");
    assertThat(Tasks.problem(echo(1, "x".repeat(257))))
        .contains("echo.value must be at most 256 characters, got 257");
    assertThat(Tasks.problem(Task.getDefaultInstance()))
        .contains("task must set one of count_primes or echo");
  }

  @Test
  void expectedResultsAndDescriptions() {
    assertThat(Tasks.expectedResult(primes(0, 101)).getPrimeCount()).isEqualTo(25);
    assertThat(Tasks.expectedResult(echo(5_000, "hi")).getEchoed()).isEqualTo("hi");
    assertThat(Tasks.describe(primes(1, 2))).isEqualTo("primes[1,2)");
    assertThat(Tasks.describe(echo(20, "hi"))).isEqualTo("echo(20ms,\"hi\")");
    assertThat(Tasks.expectedMillis(echo(20, "hi"))).isEqualTo(20);
    assertThatThrownBy(() -> Tasks.expectedResult(primes(5, 1)))
        .hasMessageContaining("count_primes.to must be greater than from");
  }

  private static long trialDivisionCount(long from, long to) {
    long count = 0;
    for (long n = Math.max(2, from); n < to; n++) {
      boolean prime = true;
      for (long d = 2; d * d <= n; d++) {
        if (n % d == 0) {
          prime = false;
          break;
        }
      }
      if (prime) {
        count++;
      }
    }
    return count;
  }
}
