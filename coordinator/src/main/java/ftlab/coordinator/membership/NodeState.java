package ftlab.coordinator.membership;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The life cycle of a node, as one coordinator sees it. Each coordinator keeps its own view; two
 * coordinators may briefly disagree, and that is fine because each only routes its own requests.
 *
 * <pre>
 *              heartbeat                 silence > suspect_after         silence > dead_after
 *   (new) ───────────────▶ ALIVE ─────────────────────────▶ SUSPECT ─────────────────────▶ DEAD
 *                            ▲  or a call to it failed        │                            │
 *                            └──────── heartbeat ─────────────┘◀─────── heartbeat ─────────┘
 *   ALIVE, SUSPECT, DEAD ── Leave ──▶ LEFT ── heartbeat of a new incarnation (restart) ──▶ ALIVE
 *                                     LEFT ── beats of the same process 2 s after it ──▶ ALIVE
 *   ALIVE, SUSPECT ── outvoted too often ──▶ QUARANTINED ── readmitted, or expired ──▶ ALIVE (DEAD
 *                                                           if it went silent meanwhile)
 *   any state but LEFT ── its certificate revoked (ftlab revoke) ──▶ LEFT ── revocation undone,
 *                                                                      a heartbeat ──▶ ALIVE
 * </pre>
 */
public enum NodeState {
  /** Heartbeats arrive in time. The node gets work. */
  ALIVE,
  /** Heartbeats are late, or a call to it just failed. It gets work only if no ALIVE node can. */
  SUSPECT,
  /** Silent for longer than the dead timeout. It gets no work until it beats again. */
  DEAD,
  /**
   * It said goodbye (a graceful shutdown). Not a failure. It gets no work. DEAD and LEFT nodes are
   * forgotten after a while ({@link MembershipLimits#forgetAfter()}).
   */
  LEFT,
  /**
   * Outvoted too often in vote mode: its answers disagree with the majority, so it may be lying. It
   * gets no work, whatever its heartbeats say, until an operator readmits it or the quarantine
   * expires ({@link QuarantineConfig}). Nothing it does ends it early: not beating, not leaving,
   * not restarting.
   */
  QUARANTINED;

  /** The legal transitions. Anything else is a bug in the caller and throws. */
  private static final Map<NodeState, Set<NodeState>> LEGAL = new EnumMap<>(NodeState.class);

  static {
    LEGAL.put(ALIVE, EnumSet.of(SUSPECT, LEFT, QUARANTINED));
    LEGAL.put(SUSPECT, EnumSet.of(ALIVE, DEAD, LEFT, QUARANTINED));
    LEGAL.put(DEAD, EnumSet.of(ALIVE, LEFT));
    // a restarted process (a new incarnation) comes back from LEFT, or the same one if it beats on
    // well after the goodbye (the goodbye was not its own: Membership.GOODBYE_GRACE)
    LEGAL.put(LEFT, EnumSet.of(ALIVE));
    // only an operator's readmission or the expiry ends a quarantine; a revocation trumps it
    LEGAL.put(QUARANTINED, EnumSet.of(ALIVE, DEAD, LEFT));
  }

  /** Whether a node in this state may move to {@code next}. */
  public boolean canBecome(NodeState next) {
    return LEGAL.get(this).contains(next);
  }

  /** Whether a coordinator may send work to a node in this state at all. */
  public boolean mayGetWork() {
    return this == ALIVE || this == SUSPECT;
  }
}
