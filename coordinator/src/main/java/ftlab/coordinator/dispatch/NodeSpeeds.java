package ftlab.coordinator.dispatch;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How slow each node has been lately, as this coordinator measured it: the extra time of its
 * attempts (latency beyond the task's expected time), smoothed, and forgotten as time passes.
 * Thread-safe; time is passed in.
 *
 * <pre>
 *   on each answer:  score = score + 0.3 x (extra - score)        (an exponential moving average)
 *   when asked:      score x 0.5 ^ (time since its last answer / 2 s)
 * </pre>
 *
 * <p>Why forget: a node judged slow gets little work, so it produces few new measurements. Without
 * forgetting, a node that was slow once would stay slow in our eyes forever; with a 2 s half-life,
 * a node 50 ms slow is tried again after about 7 s of rest (when its score has halved below the 20
 * ms margin the {@link NodePicker} allows), and a healed node earns its share back from there.
 */
final class NodeSpeeds {
  static final double ALPHA = 0.3;
  static final long HALF_LIFE_NANOS = 2_000_000_000L;

  private record Speed(double scoreNanos, long atNanos) {}

  private final Map<String, Speed> speeds = new ConcurrentHashMap<>();

  /** An attempt on the node took {@code extraNanos} beyond its task's expected time. */
  void record(String nodeId, long extraNanos, long nowNanos) {
    long extra = Math.max(0, extraNanos);
    speeds.compute(
        nodeId,
        (id, old) ->
            new Speed(
                old == null
                    ? ALPHA * extra // a first answer counts as one sample, not as the whole truth
                    : decayed(old, nowNanos) + ALPHA * (extra - decayed(old, nowNanos)),
                nowNanos));
  }

  /** The node's score now: 0 for a node never measured. */
  long scoreNanos(String nodeId, long nowNanos) {
    Speed s = speeds.get(nodeId);
    return s == null ? 0 : (long) decayed(s, nowNanos);
  }

  private static double decayed(Speed s, long nowNanos) {
    long age = Math.max(0, nowNanos - s.atNanos());
    return s.scoreNanos() * Math.pow(0.5, (double) age / HALF_LIFE_NANOS);
  }
}
