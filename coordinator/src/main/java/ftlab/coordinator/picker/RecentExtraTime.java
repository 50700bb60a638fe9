package ftlab.coordinator.picker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How much longer than expected each node's recent attempts took, as this coordinator measured
 * them: the extra time of its attempts (latency beyond the task's expected time), smoothed, and
 * forgotten as time passes. One quantity under one name: {@link Candidate#recentExtraNanos} for the
 * {@link NodePicker}, {@code recent_extra_ms} in the cluster view, EXTRA in {@code ftlab status}.
 * Thread-safe; time is passed in.
 *
 * <pre>
 *   on each attempt: score = score + 0.5 x (extra - score)        (an exponential moving average)
 *     (an answer, or a loser cancelled after at least that long), except the first 3 measured,
 *     which are not counted at all
 *   when asked:      score x 0.5 ^ (time since its last answer / 10 s), or 0 until it is counted
 * </pre>
 *
 * <p>Why forget: a node judged slow gets little work, so it produces few new measurements. Without
 * forgetting, a node that was slow once would stay slow in our eyes forever. With a 10 s half-life
 * a node 50 ms slow falls below the 20 ms margin the {@link NodePicker} allows after about 10 s of
 * rest, gets one request (a probe), is judged again, and rests again: about one request in 8 s, so
 * it barely touches the tail; a healed node earns its share back at its first probe. Why not count
 * the first 3 measurements: those of a node that just started (a cold JVM: classes loading, code
 * not compiled yet, a first connection) are slow for reasons that pass, by hundreds of ms. Averaged
 * in, they would mark a healthy restarted node slow and keep it out of the rotation for half a
 * minute while the score fades. A node that rejoins (restart, back from DEAD) starts over ({@link
 * #forget}).
 */
public final class RecentExtraTime {
  static final double ALPHA = 0.5;
  static final long HALF_LIFE_NANOS = 10_000_000_000L;

  /** Answers of a (re)joined node that are not counted: its warm-up. */
  static final int WARM_UP_ANSWERS = 3;

  /** A node's smoothed extra time as of its last answer, and how many answers it has given. */
  private record Score(double nanos, long atNanos, int answers) {}

  private final Map<String, Score> scores = new ConcurrentHashMap<>();

  /**
   * An attempt on the node took {@code extraNanos} beyond its task's expected time (a negative
   * value, a task faster than expected, counts as 0).
   */
  public void record(String nodeId, long extraNanos, long nowNanos) {
    long extra = Math.max(0, extraNanos);
    scores.compute(
        nodeId,
        (id, old) -> {
          int answers = old == null ? 1 : old.answers() + 1;
          if (answers <= WARM_UP_ANSWERS) {
            return new Score(0, nowNanos, answers); // warming up: not counted
          }
          if (answers == WARM_UP_ANSWERS + 1) {
            return new Score(ALPHA * extra, nowNanos, answers); // one sample, not the whole truth
          }
          double score = decayed(old, nowNanos);
          return new Score(score + ALPHA * (extra - score), nowNanos, answers);
        });
  }

  /**
   * The node's recent extra time now: 0 while it warms up (its first {@link #WARM_UP_ANSWERS}
   * answers) or if it was never measured.
   */
  public long nanos(String nodeId, long nowNanos) {
    Score s = scores.get(nodeId);
    return s == null || s.answers() <= WARM_UP_ANSWERS ? 0 : (long) decayed(s, nowNanos);
  }

  /** The node (re)joined: a new process, judged afresh. */
  public void forget(String nodeId) {
    scores.remove(nodeId);
  }

  private static double decayed(Score s, long nowNanos) {
    long age = Math.max(0, nowNanos - s.atNanos());
    return s.nanos() * Math.pow(0.5, (double) age / HALF_LIFE_NANOS);
  }
}
