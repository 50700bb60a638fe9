package ftlab.coordinator.dispatch;

import ftlab.proto.RedundancyMode;
import ftlab.proto.RedundancyWords;

/**
 * How a coordinator uses several nodes for one request (docs/redundancy.md):
 *
 * <ul>
 *   <li>{@code FAILOVER}: one attempt at a time; another node only after a failure.
 *   <li>{@code HEDGED}: one attempt, plus one more on another node if the first is slower than the
 *       hedge delay; the first good answer wins. Cheap insurance against a slow node.
 *   <li>{@code PARALLEL}: {@code replicas} attempts at once; the first good answer wins. Costs
 *       {@code replicas} times the work, for the lowest latency.
 *   <li>{@code VOTE}: {@code replicas} attempts at once; the answer needs a strict majority of
 *       equal results. Costs {@code replicas} times the work, and protects against a node that
 *       lies.
 * </ul>
 *
 * @param replicas nodes that get the task at once in parallel and vote modes; in failover and
 *     hedged mode it is kept, unused, as the coordinator's setting for when it switches to one of
 *     those
 */
public record Redundancy(RedundancyMode mode, int replicas) {
  public static final int DEFAULT_REPLICAS = 3;
  public static final int MAX_REPLICAS = 9;
  public static final Redundancy FAILOVER = new Redundancy(RedundancyMode.FAILOVER, 1);

  public Redundancy {
    if (mode == null
        || mode == RedundancyMode.REDUNDANCY_MODE_UNSPECIFIED
        || mode == RedundancyMode.UNRECOGNIZED) {
      throw new IllegalArgumentException(
          "redundancy mode must be one of failover, hedged, parallel, vote; got " + mode);
    }
    int min =
        switch (mode) {
          case PARALLEL -> 2;
          case VOTE -> 3; // with 2, a single liar turns every answer into a tie
          default -> 1;
        };
    if (replicas < min || replicas > MAX_REPLICAS) {
      throw new IllegalArgumentException(
          "replicas for "
              + mode.name().toLowerCase()
              + " must be between "
              + min
              + " and "
              + MAX_REPLICAS
              + ", got "
              + replicas);
    }
  }

  /**
   * The redundancy a request or an admin call asks for. In parallel and vote modes, {@code
   * replicas} 0 means the coordinator's own ({@code ownReplicas}: its {@code --replicas}, or the
   * last count given with 'ftlab mode'); in failover and hedged mode a count means nothing, and the
   * coordinator's own is kept.
   *
   * @throws IllegalArgumentException naming the bad value
   */
  public static Redundancy fromProto(ftlab.proto.Redundancy r, int ownReplicas) {
    boolean many = r.getMode() == RedundancyMode.PARALLEL || r.getMode() == RedundancyMode.VOTE;
    int replicas = many && r.getReplicas() != 0 ? r.getReplicas() : ownReplicas;
    return new Redundancy(r.getMode(), replicas);
  }

  /** Nodes that get each request at once: {@link #replicas} in parallel and vote modes, else 1. */
  public int nodesPerRequest() {
    return mode == RedundancyMode.PARALLEL || mode == RedundancyMode.VOTE ? replicas : 1;
  }

  public ftlab.proto.Redundancy toProto() {
    return ftlab.proto.Redundancy.newBuilder().setMode(mode).setReplicas(replicas).build();
  }

  /** Agreeing results a vote needs: a strict majority of the replicas (2 of 3, 3 of 4 or 5). */
  public int majority() {
    return replicas / 2 + 1;
  }

  /** "failover", "hedged", "parallel x3", "vote x3". */
  public String describe() {
    return RedundancyWords.describe(toProto());
  }
}
