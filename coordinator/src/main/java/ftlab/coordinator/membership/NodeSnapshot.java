package ftlab.coordinator.membership;

import ftlab.proto.Faults;

/**
 * What the membership knows about one node at one instant.
 *
 * @param silenceNanos time since the last accepted heartbeat
 * @param reason why the node is in its state
 * @param sinceTransitionNanos time since it entered that state
 * @param faults the injected faults its last heartbeat reported in force
 * @param outvoted how many of its recent votes the majority overruled
 * @param recentVotes how many recent votes that counts over (at most the quarantine window)
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
    long sinceTransitionNanos,
    Faults faults,
    int outvoted,
    int recentVotes) {}
