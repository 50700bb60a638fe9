package ftlab.proto;

import java.util.Locale;

/**
 * Redundancy modes ({@code coordinator.proto}) in words, the same in every process: read as people
 * type them ("vote"), written as {@code ftlab status}, {@code ftlab mode} and the coordinator's log
 * print them ("vote x3").
 */
public final class RedundancyWords {
  private RedundancyWords() {}

  /**
   * "failover", "hedged", "parallel" or "vote", in any case.
   *
   * @throws IllegalArgumentException naming the bad value and the choices
   */
  public static RedundancyMode mode(String name) {
    RedundancyMode m;
    try {
      m = RedundancyMode.valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      m = RedundancyMode.UNRECOGNIZED;
    }
    if (m == RedundancyMode.UNRECOGNIZED || m == RedundancyMode.REDUNDANCY_MODE_UNSPECIFIED) {
      throw new IllegalArgumentException(
          "mode must be one of failover, hedged, parallel, vote; got '" + name + "'");
    }
    return m;
  }

  /**
   * "failover", "hedged", "parallel x3", "vote x3"; "vote" alone for a request that leaves the
   * count to the coordinator (replicas 0).
   */
  public static String describe(Redundancy r) {
    if (r.getMode() == RedundancyMode.REDUNDANCY_MODE_UNSPECIFIED) {
      return "each coordinator's own mode";
    }
    String name = r.getMode().name().toLowerCase(Locale.ROOT);
    boolean many = r.getMode() == RedundancyMode.PARALLEL || r.getMode() == RedundancyMode.VOTE;
    return many && r.getReplicas() > 0 ? name + " x" + r.getReplicas() : name;
  }
}
