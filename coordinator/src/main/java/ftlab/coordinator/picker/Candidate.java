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
 */
public record Candidate(
    String nodeId,
    String address,
    NodeState state,
    int coordinatorInFlight,
    int reportedInFlight,
    int capacity,
    long recentExtraNanos) {

  /**
   * Every task slot of the node is taken, by both counts: this coordinator's own attempts on it
   * fill its capacity, and so did the tasks it reported in its last heartbeat. An attempt sent now
   * would only be refused (RESOURCE_EXHAUSTED); the request waits for a slot instead. Both counts,
   * because each can be wrong one way: the node's is up to a heartbeat old, and this coordinator's
   * counts only its own work (and would stay high for ever if an attempt's end were ever missed). A
   * node whose capacity is not known (0) is never full.
   */
  public boolean full() {
    return capacity > 0 && coordinatorInFlight >= capacity && reportedInFlight >= capacity;
  }
}
