package ftlab.coordinator.membership;

/**
 * Something that happened to the membership, returned by {@link Membership} for the caller to log,
 * count or act on after it has released its lock. The membership itself never does IO.
 */
public sealed interface MembershipEvent {

  /** A line a learner can read, e.g. {@code node-3 ALIVE -> SUSPECT: no heartbeat for 320 ms}. */
  String describe();

  /**
   * A node changed state, or joined ({@code from == null}).
   *
   * @param reason why, in words, with the numbers that decided it
   * @param newProcess the move was made by a heartbeat of a new incarnation (a restarted node):
   *     connections to the old process are worth nothing
   */
  record Transition(String nodeId, NodeState from, NodeState to, String reason, boolean newProcess)
      implements MembershipEvent {
    public Transition {
      if (from != null && !from.canBecome(to)) {
        throw new IllegalStateException(
            "illegal transition for " + nodeId + ": " + from + " -> " + to + " (" + reason + ")");
      }
    }

    /** A move of the same process (or a node's first beat). */
    public Transition(String nodeId, NodeState from, NodeState to, String reason) {
      this(nodeId, from, to, reason, false);
    }

    @Override
    public String describe() {
      return from == null
          ? nodeId + " joined as " + to + ": " + reason
          : nodeId + " " + from + " -> " + to + ": " + reason;
    }
  }

  /** A node restarted before the detector noticed it was gone: same state, new process. */
  record Restarted(String nodeId, long oldIncarnation, long newIncarnation)
      implements MembershipEvent {
    @Override
    public String describe() {
      return nodeId
          + " restarted: incarnation "
          + oldIncarnation
          + " -> "
          + newIncarnation
          + " (it came back faster than the detector could notice it was gone)";
    }
  }

  /**
   * The detector itself was not run for a long time (the coordinator was paused or starved of CPU).
   * Silence measured across that gap says nothing about the nodes, so their clocks were restarted
   * instead of declaring every node dead at once.
   */
  record DetectorStalled(long stalledMillis) implements MembershipEvent {
    @Override
    public String describe() {
      return "failure detector did not run for "
          + stalledMillis
          + " ms (this coordinator was paused or starved): restarting every node's silence clock"
          + " instead of suspecting them all";
    }
  }
}
