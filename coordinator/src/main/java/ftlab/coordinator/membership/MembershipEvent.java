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

  /** Why a heartbeat was refused. */
  enum Refusal {
    /** Its incarnation is too far ahead of this coordinator's clock to be a real start time. */
    FUTURE_INCARNATION,
    /** Another process holds the node id and still beats: the first process keeps it. */
    ID_TAKEN,
    /**
     * The table holds {@link MembershipLimits#maxNodes()} members, none of them DEAD or LEFT for
     * more than 2 s ({@link Membership#GOODBYE_GRACE}).
     */
    TABLE_FULL,
    /**
     * Its sequence number runs far ahead of the beats the process could have sent since its last (a
     * forged beat that would make every real one after it look old).
     */
    SEQUENCE_JUMP
  }

  /**
   * A heartbeat was refused: the beat changed nothing. Every refusal is one event (to count it);
   * {@code report} is true for the first of its kind in a while, so that a flood of them is one log
   * line every few seconds, not one per beat.
   *
   * @param newClaim the first beat of a process claiming an id another holds ({@link
   *     Refusal#ID_TAKEN}): two processes claim one id, counted as an id conflict
   * @param refusedSinceReport refusals of this kind since the last reported one, not reported
   */
  record Refused(
      String nodeId,
      String address,
      Refusal kind,
      String reason,
      boolean newClaim,
      boolean report,
      long refusedSinceReport)
      implements MembershipEvent {
    @Override
    public String describe() {
      return "refused a heartbeat from "
          + nodeId
          + " at "
          + address
          + ": "
          + reason
          + (refusedSinceReport > 0
              ? " (" + refusedSinceReport + " more refused for this reason since the last report)"
              : "");
    }
  }

  /**
   * A DEAD or LEFT node was taken out of the table ({@link MembershipLimits}): it no longer shows
   * in the status, and a heartbeat from it later is a first heartbeat.
   */
  record Forgotten(String nodeId, String address, NodeState was, String reason)
      implements MembershipEvent {
    @Override
    public String describe() {
      return nodeId + " forgotten (" + was + "): " + reason;
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
