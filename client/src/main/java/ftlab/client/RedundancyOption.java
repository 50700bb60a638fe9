package ftlab.client;

import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyMode;
import java.util.Locale;

/** Reads a redundancy mode as people type it: "failover", "hedged", "parallel", "vote". */
public final class RedundancyOption {
  private RedundancyOption() {}

  /**
   * @param replicas for parallel and vote; 0 = the coordinator's default (3)
   * @throws IllegalArgumentException naming the bad value and the choices
   */
  public static Redundancy parse(String mode, int replicas) {
    RedundancyMode m;
    try {
      m = RedundancyMode.valueOf(mode.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      m = RedundancyMode.UNRECOGNIZED;
    }
    if (m == RedundancyMode.UNRECOGNIZED || m == RedundancyMode.REDUNDANCY_MODE_UNSPECIFIED) {
      throw new IllegalArgumentException(
          "mode must be one of failover, hedged, parallel, vote; got '" + mode + "'");
    }
    if (replicas < 0 || replicas > 9) {
      throw new IllegalArgumentException("replicas must be between 0 and 9, got " + replicas);
    }
    return Redundancy.newBuilder().setMode(m).setReplicas(replicas).build();
  }

  /** "failover", "hedged", "parallel x3", "vote x3". */
  public static String describe(Redundancy r) {
    if (r.getMode() == RedundancyMode.REDUNDANCY_MODE_UNSPECIFIED) {
      return "each coordinator's own mode";
    }
    String name = r.getMode().name().toLowerCase(Locale.ROOT);
    boolean many = r.getMode() == RedundancyMode.PARALLEL || r.getMode() == RedundancyMode.VOTE;
    return many ? name + " x" + (r.getReplicas() == 0 ? 3 : r.getReplicas()) : name;
  }
}
