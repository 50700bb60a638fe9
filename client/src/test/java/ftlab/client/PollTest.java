package ftlab.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PollTest {
  @Test
  void returnsTheFirstValueAndAsksNoMore() throws InterruptedException {
    AtomicInteger asked = new AtomicInteger();
    Optional<String> v =
        Poll.until(
            Duration.ofSeconds(10),
            Duration.ofMillis(1),
            () -> asked.incrementAndGet() == 3 ? Optional.of("third") : Optional.empty());
    assertThat(v).contains("third");
    assertThat(asked).hasValue(3);
  }

  @Test
  void givesUpAfterTheDeadlineHavingAskedAtLeastOnce() throws InterruptedException {
    AtomicInteger asked = new AtomicInteger();
    boolean came =
        Poll.untilTrue(
            Duration.ZERO,
            Duration.ofMillis(1),
            () -> {
              asked.incrementAndGet();
              return false;
            });
    assertThat(came).isFalse();
    assertThat(asked).hasValue(1);
  }
}
