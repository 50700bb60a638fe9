package ftlab.coordinator.membership;

/**
 * What the membership knows about one node at one instant.
 *
 * @param silenceNanos time since the last accepted heartbeat
 * @param reason why the node is in its state
 * @param sinceTransitionNanos time since it entered that state
 */
public record NodeSnapshot(
    String nodeId,
    String address,
    NodeState state,
    long incarnation,
    long silenceNanos,
    int inFlight,
    int capacity,
    String reason,
    long sinceTransitionNanos) {}
