package ftlab.coordinator.dispatch;

import java.time.Duration;
import java.util.Arrays;

/**
 * When to hedge, and how often it may: the two knobs of "The Tail at Scale" (Dean and Barroso,
 * 2013). Thread-safe (every method holds this object's lock); no clock, no threads.
 *
 * <pre>
 *   hedge delay = the task's expected time + the p95 of recent attempts' extra time
 *                 (latency beyond the expected time), at least minDelay; until MIN_SAMPLES
 *                 attempts have been seen, the expected time + initialDelay (50 ms)
 *   budget      = tokens: each hedged request adds 0.05 (up to 10), a hedge takes 1; none to start
 *                 => at most 5% more attempts in the long run, with bursts of up to 10
 * </pre>
 *
 * <p>Why the extra time and not the latency itself: tasks differ in cost (a 10 ms echo, a 1 ms
 * prime count); a long task should not be hedged just for being long. Why p95: only the slowest 5%
 * of attempts outlast it, so in steady state about 5% of requests would hedge, which the budget
 * allows. If more attempts are slow than that (a node slowed down on every task gets a fifth of
 * them), the p95 itself rises, and hedging helps less: the budget, not the delay, keeps the cost
 * down.
 *
 * @param percentile of recent extra times, 50..99.9
 * @param minDelay the hedge delay never goes below this, so that noise alone does not hedge
 * @param initialDelay used until {@code MIN_SAMPLES} attempts have been seen
 * @param budgetRatio tokens each hedged request adds
 * @param budgetCap most tokens that can pile up
 */
public record HedgePolicy(
    double percentile,
    Duration minDelay,
    Duration initialDelay,
    double budgetRatio,
    double budgetCap) {

  public static final HedgePolicy DEFAULT =
      new HedgePolicy(95, Duration.ofMillis(2), Duration.ofMillis(50), 0.05, 10);

  /** Below this many recorded attempts the percentile means little: use the initial delay. */
  static final int MIN_SAMPLES = 20;

  /** How many recent attempts the percentile is taken over. */
  static final int WINDOW = 500;

  public HedgePolicy {
    if (percentile < 50 || percentile > 99.9) {
      throw new IllegalArgumentException("hedge percentile must be 50..99.9, got " + percentile);
    }
    if (minDelay.isNegative() || initialDelay.isNegative()) {
      throw new IllegalArgumentException(
          "hedge delays must not be negative, got minimum "
              + minDelay.toMillis()
              + " ms and initial "
              + initialDelay.toMillis()
              + " ms");
    }
    if (budgetRatio <= 0 || budgetRatio > 1) {
      throw new IllegalArgumentException(
          "hedge budget ratio must be in (0, 1], got " + budgetRatio);
    }
    if (budgetCap < 1) {
      throw new IllegalArgumentException("hedge budget cap must be at least 1, got " + budgetCap);
    }
  }

  /** The live state of one coordinator's hedging. */
  public State newState() {
    return new State(this);
  }

  /** Recent extra times and the token bucket. */
  public static final class State {
    private final HedgePolicy policy;
    private final long[] extras = new long[WINDOW];
    private long recorded;
    private long delayNanos;
    private double tokens;

    State(HedgePolicy policy) {
      this.policy = policy;
      this.delayNanos = policy.initialDelay().toNanos();
      this.tokens = 0; // earned: the first hedge after 20 requests, never more than 5% overall
    }

    /**
     * An attempt took {@code latencyNanos} (or at least that long, for a loser that was cancelled)
     * for a task expected to take {@code expectedNanos}.
     */
    public synchronized void recordLatency(long latencyNanos, long expectedNanos) {
      extras[(int) (recorded % WINDOW)] = Math.max(0, latencyNanos - expectedNanos);
      recorded++;
      // re-sorting 500 numbers costs a few microseconds: do it every 16 attempts, not every one
      if (recorded == MIN_SAMPLES || (recorded > MIN_SAMPLES && recorded % 16 == 0)) {
        long[] sorted = Arrays.copyOf(extras, (int) Math.min(recorded, WINDOW));
        Arrays.sort(sorted);
        int index = (int) Math.ceil(policy.percentile() / 100.0 * sorted.length) - 1;
        delayNanos = Math.max(policy.minDelay().toNanos(), sorted[Math.max(0, index)]);
      }
    }

    /** How long to wait for the first attempt before hedging a task expected to take that long. */
    public synchronized long delayNanos(long expectedNanos) {
      return expectedNanos + delayNanos;
    }

    /** The hedge delay for a task of no expected duration: what the cluster view shows. */
    public synchronized long baseDelayNanos() {
      return delayNanos;
    }

    /** A request arrived: it earns its share of a future hedge. */
    public synchronized void onRequest() {
      tokens = Math.min(policy.budgetCap(), tokens + policy.budgetRatio());
    }

    /** Takes a token for one hedge, if there is one. */
    public synchronized boolean tryHedge() {
      if (tokens < 1) {
        return false;
      }
      tokens -= 1;
      return true;
    }

    public synchronized double budget() {
      return tokens;
    }
  }
}
