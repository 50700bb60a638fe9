package ftlab.coordinator.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class RateLimitTest {
  private static final long MS = 1_000_000L;
  private static final RateLimit.Limit CLIENTS =
      new RateLimit.Limit(100, "requests", "from one client connection", "--client-rate-limit");

  private long now = 5_000 * MS;

  private int takenOf(RateLimit limit, String key, int calls) {
    int taken = 0;
    for (int i = 0; i < calls; i++) {
      if (limit.take(key, now).isEmpty()) {
        taken++;
      }
    }
    return taken;
  }

  @Test
  void aBurstOfOneSecondsWorthThenTheRate() {
    RateLimit limit = new RateLimit(CLIENTS, 10);
    assertThat(takenOf(limit, "a", 150)).isEqualTo(100);
    Optional<RateLimit.Refused> refused = limit.take("a", now);
    assertThat(refused)
        .get()
        .isEqualTo(
            new RateLimit.Refused(
                10,
                "more than 100 requests/s from one client connection, the limit"
                    + " (--client-rate-limit): try again in 10 ms"));
    now += 10 * MS;
    assertThat(takenOf(limit, "a", 5)).isEqualTo(1);
    // a steady 100/s goes through, every call
    for (int i = 0; i < 500; i++) {
      now += 10 * MS;
      assertThat(limit.take("a", now)).as("call %d", i).isEmpty();
    }
  }

  @Test
  void eachKeyHasItsOwnBucket() {
    RateLimit limit = new RateLimit(CLIENTS, 10);
    assertThat(takenOf(limit, "flood", 1_000)).isEqualTo(100);
    assertThat(takenOf(limit, "innocent", 50)).isEqualTo(50);
  }

  @Test
  void anIdleBucketFillsUpToOneSecondsWorthOnly() {
    RateLimit limit = new RateLimit(CLIENTS, 10);
    takenOf(limit, "a", 100);
    now += 60_000 * MS;
    assertThat(takenOf(limit, "a", 300)).isEqualTo(100);
    now += 500 * MS;
    assertThat(takenOf(limit, "a", 300)).isEqualTo(50);
  }

  @Test
  void theNumberOfBucketsIsBounded() {
    RateLimit limit = new RateLimit(CLIENTS, 1_000);
    for (int i = 0; i < 50_000; i++) {
      limit.take("ghost-" + i, now);
    }
    assertThat(limit.keys()).isEqualTo(1_000);
    // the one used longest ago goes first: a key in use keeps its bucket
    takenOf(limit, "busy", 100);
    for (int i = 0; i < 5_000; i++) {
      limit.take("ghost-b-" + i, now);
      limit.take("busy", now);
    }
    assertThat(limit.take("busy", now)).isPresent();
  }

  @Test
  void zeroIsNoLimitAndNegativeIsRefused() {
    RateLimit off =
        new RateLimit(
            new RateLimit.Limit(0, "requests", "from one client connection", "--client-rate-limit"),
            10);
    assertThat(takenOf(off, "a", 100_000)).isEqualTo(100_000);
    assertThat(off.keys()).isZero();
    assertThat(off.limit().describe()).isEqualTo("no limit (--client-rate-limit 0)");
    assertThatThrownBy(() -> new RateLimit.Limit(-1, "requests", "x", "--client-rate-limit"))
        .hasMessage("--client-rate-limit must be 0 (no limit) to 1000000 per second, got -1");
  }
}
