package ftlab.coordinator.dispatch;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How slow each node has been lately, as this coordinator measured it: the extra time of its
 * attempts (latency beyond the task's expected time), smoothed, and forgotten as time passes.
 * Thread-safe; time is passed in.
 *
 * <pre>
 *   on each answer:  score = score + 0.5 x (extra - score)        (an exponential moving average)
 *   when asked:      score x 0.5 ^ (time since its last answer / 10 s), or 0 before 3 answers
 * </pre>
 *
 * <p>Why forget: a node judged slow gets little work, so it produces few new measurements. Without
 * forgetting, a node that was slow once would stay slow in our eyes forever. With a 10 s half-life
 * a node 50 ms slow falls below the 20 ms margin the {@link NodePicker} allows after about 10 s of
 * rest, gets one request (a probe), is judged again, and rests again: about one request in 8 s, so
 * it barely touches the tail; a healed node earns its share back at its first probe. Why 3 answers:
 * the first answers of a node that just started (a cold JVM) are slow for reasons that pass. A node
 * that rejoins (restart, back from DEAD) starts over ({@link #forget}).
 */
final class NodeSpeeds {
  static final double ALPHA = 0.5;
  static final long HALF_LIFE_NANOS = 10_000_000_000L;
  static final int MIN_ANSWERS = 3;

  private record Speed(double scoreNanos, long atNanos, int answers) {}

  private final Map<String, Speed> speeds = new ConcurrentHashMap<>();

  /** An attempt on the node took {@code extraNanos} beyond its task's expected time. */
  void record(String nodeId, long extraNanos, long nowNanos) {
    long extra = Math.max(0, extraNanos);
    speeds.compute(
        nodeId,
        (id, old) ->
            old == null
                ? new Speed(ALPHA * extra, nowNanos, 1) // one sample, not the whole truth
                : new Speed(
                    decayed(old, nowNanos) + ALPHA * (extra - decayed(old, nowNanos)),
                    nowNanos,
                    old.answers() + 1));
  }

  /** The node's score now: 0 for a node with fewer than {@link #MIN_ANSWERS} answers. */
  long scoreNanos(String nodeId, long nowNanos) {
    Speed s = speeds.get(nodeId);
    return s == null || s.answers() < MIN_ANSWERS ? 0 : (long) decayed(s, nowNanos);
  }

  /** The node (re)joined: a new process, judged afresh. */
  void forget(String nodeId) {
    speeds.remove(nodeId);
  }

  private static double decayed(Speed s, long nowNanos) {
    long age = Math.max(0, nowNanos - s.atNanos());
    return s.scoreNanos() * Math.pow(0.5, (double) age / HALF_LIFE_NANOS);
  }
}
