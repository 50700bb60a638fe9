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
    long recentExtraNanos) {}
