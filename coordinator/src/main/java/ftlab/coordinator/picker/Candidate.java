package ftlab.coordinator.picker;

import ftlab.coordinator.membership.NodeState;

/**
 * A node that may get an attempt, as the {@link NodePicker} sees it.
 *
 * @param coordinatorInFlight attempts this coordinator has running on the node now (exact, local)
 * @param reportedInFlight tasks the node said it was running in its last heartbeat (all
 *     coordinators together, but up to one heartbeat interval old)
 * @param recentExtraNanos how much longer than expected its recent attempts took ({@link
 *     RecentExtraTime})
 * @param reportedSinceOurLastStart that heartbeat came after the last attempt this coordinator
 *     started on the node, so its count should include our attempts (unless the heartbeat left the
 *     node before our call arrived: then one attempt may still be refused)
 */
public record Candidate(
    String nodeId,
    String address,
    NodeState state,
    int coordinatorInFlight,
    int reportedInFlight,
    int capacity,
    long recentExtraNanos,
    boolean reportedSinceOurLastStart) {

  /**
   * Every task slot of the node is taken: this coordinator's own attempts on it fill its capacity,
   * and the node did not say otherwise since. An attempt sent now would only be refused
   * (RESOURCE_EXHAUSTED); the request waits for a slot instead.
   *
   * <pre>
   *   this coordinator's    the node's last heartbeat               full
   *   attempts on it
   *   below capacity        any                                     no
   *   at capacity           before our last attempt started          yes: it could not know of it
   *   at capacity           after it, and at capacity too            yes
   *   at capacity           after it, with room                      no: an attempt of ours ended
   *                                                                  there and its answer is on
   *                                                                  its way; or our count is
   *                                                                  wrong (an end never
   *                                                                  counted), and asking mends it
   * </pre>
   *
   * The last row keeps a count that stayed too high from shutting a node out: once this coordinator
   * stops starting attempts there, the node's next heartbeat (within 100 ms) says it has room, and
   * it is asked again. A node whose capacity is not known (0) is never full.
   */
  public boolean full() {
    return capacity > 0
        && coordinatorInFlight >= capacity
        && (!reportedSinceOurLastStart || reportedInFlight >= capacity);
  }
}
