package ftlab.coordinator.dispatch;

import java.time.Duration;
import java.util.Arrays;

/**
 * When to hedge, and how often it may: the two knobs of "The Tail at Scale" (Dean and Barroso,
 * 2013). Thread-safe (every method holds this object's lock); no clock (the time is passed in), no
 * threads.
 *
 * <pre>
 *   hedge delay = the task's expected time + the p95 of recent attempts' extra time
 *                 (latency beyond the expected time), at least minDelay; until MIN_SAMPLES
 *                 attempts have been seen, the expected time + initialDelay (50 ms)
 *   recent      = the last WINDOW (500) attempts, leaving out those older than HISTORY (20 s)
 *                 as long as MIN_SAMPLES (20) remain
 *   budget      = tokens: each hedged request adds 0.05 (up to 10), a hedge takes 1; 10 to start
 *                 => at most 5% more attempts in the long run, plus the 10 in hand at the start
 * </pre>
 *
 * <p>Why the extra time and not the latency itself: tasks differ in cost (a 10 ms echo, a 1 ms
 * prime count); a long task should not be hedged just for being long. Why p95: only the slowest 5%
 * of attempts outlast it, so in steady state about 5% of requests would hedge, which the budget
 * allows. If more attempts are slow than that (a node slowed down on every task gets a fifth of
 * them), the p95 itself rises, and hedging helps less: the budget, not the delay, keeps the cost
 * down.
 *
 * <p>Why a time limit as well as a count: at 10 requests a second, 500 attempts go back 50 s, and a
 * p95 that old still holds the slow answers of cold JVMs or of a fault long healed (in lab 5, 24 s
 * after the start-up, the hedge delay was 64-208 ms with the count alone, 18-31 ms with the limit).
 * Why not a shorter limit: the fewer attempts, the likelier that the few slow ones alone make up 5%
 * of them, and the p95 is then the slow tasks' own latency.
 *
 * <p>Why the bucket starts full (grpc-java's retry throttle starts full too, at maxTokens): the p95
 * delay asks for about as many hedges as the budget earns, so the token count drifts neither up nor
 * down, it wanders. From empty it stays near empty for hundreds of requests, and a slow task then
 * finds no token over one time in five (RedundancyPiecesTest simulates it; lab 5's p99 failed on
 * it). From full it seldom runs dry, and a hedge is refused only when more requests than usual are
 * slow for long, which is what the budget is for.
 *
 * @param percentile of recent extra times, 50..99.9
 * @param minDelay the hedge delay never goes below this, so that noise alone does not hedge
 * @param initialDelay used until {@code MIN_SAMPLES} attempts have been seen
 * @param budgetRatio tokens each hedged request adds
 * @param budgetCap most tokens that can pile up
 * @param budgetStart tokens in hand when the coordinator starts, 0..budgetCap
 */
public record HedgePolicy(
    double percentile,
    Duration minDelay,
    Duration initialDelay,
    double budgetRatio,
    double budgetCap,
    double budgetStart) {

  public static final HedgePolicy DEFAULT =
      new HedgePolicy(95, Duration.ofMillis(2), Duration.ofMillis(50), 0.05, 10, 10);

  /** Below this many recorded attempts the percentile means little: use the initial delay. */
  static final int MIN_SAMPLES = 20;

  /** How many recent attempts the percentile is taken over, at most. */
  static final int WINDOW = 500;

  /** Attempts older than this are left out of the percentile, while MIN_SAMPLES newer remain. */
  static final long HISTORY_NANOS = Duration.ofSeconds(20).toNanos();

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
    if (!(budgetStart >= 0 && budgetStart <= budgetCap)) { // NaN too
      throw new IllegalArgumentException(
          "hedge budget start must be 0.." + budgetCap + " (the cap), got " + budgetStart);
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
    private final long[] endedAt = new long[WINDOW];
    private long recorded;
    private long delayNanos;
    private double tokens;

    State(HedgePolicy policy) {
      this.policy = policy;
      this.delayNanos = policy.initialDelay().toNanos();
      this.tokens = policy.budgetStart(); // then earned: 5% in the long run
    }

    /**
     * An attempt that ended at {@code nowNanos} took {@code latencyNanos} (or at least that long,
     * for a loser that was cancelled) for a task expected to take {@code expectedNanos}.
     */
    public synchronized void recordLatency(long latencyNanos, long expectedNanos, long nowNanos) {
      int slot = (int) (recorded % WINDOW);
      extras[slot] = Math.max(0, latencyNanos - expectedNanos);
      endedAt[slot] = nowNanos;
      recorded++;
      // re-sorting 500 numbers costs a few microseconds: do it every 16 attempts, not every one
      if (recorded == MIN_SAMPLES || (recorded > MIN_SAMPLES && recorded % 16 == 0)) {
        long[] recent = new long[WINDOW];
        int count = takeRecentExtras(recent, nowNanos);
        Arrays.sort(recent, 0, count);
        int index = (int) Math.ceil(policy.percentile() / 100.0 * count) - 1;
        delayNanos = Math.max(policy.minDelay().toNanos(), recent[Math.max(0, index)]);
      }
    }

    /**
     * Copies the recent extra times into {@code into}, the newest first: each of the last WINDOW
     * that ended within HISTORY, and MIN_SAMPLES at least. Returns how many.
     */
    private int takeRecentExtras(long[] into, long nowNanos) {
      int held = (int) Math.min(recorded, WINDOW);
      int taken = 0;
      for (long i = recorded - 1; i >= recorded - held; i--) {
        int slot = (int) (i % WINDOW);
        if (taken >= MIN_SAMPLES && nowNanos - endedAt[slot] > HISTORY_NANOS) {
          break; // the older ones ended earlier still (give or take the microseconds between
          // two attempts' clocks and this lock)
        }
        into[taken++] = extras[slot];
      }
      return taken;
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
