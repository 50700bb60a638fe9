package ftlab.coordinator.dispatch;

import java.util.Locale;
import java.util.Optional;

/**
 * How many requests a coordinator takes on at once, so that beyond what its nodes can do it refuses
 * at once instead of queueing. A node at capacity refuses an attempt (it does not queue either); a
 * request whose nodes are all full waits inside the coordinator and tries again in rounds. Under
 * overload those waiting requests pile up, each paying refused attempts on the nodes, bounded by
 * nothing but the clients: `ftlab bench scale` measured p99 1.4-1.8 s and 0.5-0.6 refused attempts
 * per answer with twice as many requests in flight as one node holds (docs/benchmarks.md). With a
 * limit, the requests beyond it are refused at once with RESOURCE_EXHAUSTED, the reason and the
 * {@code ftlab-full} trailer, and the client tries another coordinator or backs off.
 *
 * <pre>
 *   requests in progress &lt; limit  -&gt; admit
 *   otherwise                      -&gt; refuse: RESOURCE_EXHAUSTED, the sentence says the numbers
 *
 *   limit = max(floor, slots x headroom / nodes per request)
 *   slots = the capacity of every node that may get work (ALIVE or SUSPECT)
 * </pre>
 *
 * <p>Headroom 2 lets one request wait for every request running: enough that a node finishing a
 * task always finds the next one ready, and that the two coordinators of a lab, each with its own
 * limit, do not shut each other out. The floor keeps a few requests waiting when no node may get
 * work (a lab just started, or every node killed a moment ago): a node that comes back within the
 * request's deadline answers them, as before there was a limit. Pure: the caller counts the
 * requests in progress and the slots, and may admit a few more than the limit when several threads
 * admit at once (one network thread by default: then never).
 *
 * @param headroom requests taken on per node slot (per slots of a request, in parallel and vote
 *     modes), at least 1; 0 turns the limit off
 * @param floor requests taken on whatever the slots
 */
public record AdmissionLimit(double headroom, int floor) {
  /** Used by the coordinator unless told otherwise ({@code --admission-headroom}). */
  public static final AdmissionLimit DEFAULT = new AdmissionLimit(2.0, 4);

  /** No limit: every request is taken on (tests of the dispatch itself). */
  public static final AdmissionLimit OFF = new AdmissionLimit(0, 0);

  public AdmissionLimit {
    if (headroom != 0 && !(headroom >= 1 && headroom <= 100)) {
      throw new IllegalArgumentException(
          "admission headroom must be 0 (no limit) or between 1 and 100 requests per node slot,"
              + " got "
              + headroom);
    }
    if (floor < 0) {
      throw new IllegalArgumentException("admission floor must not be negative, got " + floor);
    }
  }

  public boolean off() {
    return headroom == 0;
  }

  /** "at most 2 requests per node task slot (at least 4), more refused at once", or "no limit". */
  public String describe() {
    return off()
        ? "no limit"
        : "at most "
            + trim(headroom)
            + " requests per node task slot (at least "
            + floor
            + "), more refused at once";
  }

  /** The most requests taken on at once, with {@code slots} node slots that may get work. */
  public int limit(int slots, int nodesPerRequest) {
    if (off()) {
      return Integer.MAX_VALUE;
    }
    return (int) Math.min(Integer.MAX_VALUE, Math.max(floor, byCapacity(slots, nodesPerRequest)));
  }

  /** The limit the slots alone give, before the floor. */
  private long byCapacity(int slots, int nodesPerRequest) {
    return (long) Math.floor(slots * headroom / Math.max(1, nodesPerRequest));
  }

  /**
   * Why a new request is refused, or empty to admit it.
   *
   * @param inProgress requests this coordinator has taken on and not yet ended
   * @param nodes nodes that may get work
   * @param slots their capacity, all together
   * @param mode the request's mode: the nodes it asks at once (the replicas of parallel and vote)
   */
  public Optional<String> refusal(
      String coordinatorId, int inProgress, int nodes, int slots, Redundancy mode) {
    int nodesPerRequest = mode.nodesPerRequest();
    int limit = limit(slots, nodesPerRequest);
    if (inProgress < limit) {
      return Optional.empty();
    }
    String capacity =
        trim(headroom)
            + " x the "
            + slots
            + (slots == 1 ? " task slot of its " : " task slots of its ")
            + nodes
            + (nodes == 1 ? " node" : " nodes")
            + " that may get work"
            + (nodesPerRequest > 1
                ? ", / "
                    + nodesPerRequest
                    + " nodes per request in "
                    + mode.mode().name().toLowerCase(Locale.ROOT)
                    + " mode"
                : "");
    String why =
        nodes == 0
            ? limit + ": the few it keeps waiting while no node may get work"
            : byCapacity(slots, nodesPerRequest) < floor
                ? limit + ", its floor: " + capacity + " would be fewer"
                : capacity;
    return Optional.of(
        coordinatorId
            + " is full: "
            + inProgress
            + " requests in progress, the most it takes on ("
            + why
            + "); refused at once rather than queued: try another coordinator or again in a"
            + " moment");
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }
}
