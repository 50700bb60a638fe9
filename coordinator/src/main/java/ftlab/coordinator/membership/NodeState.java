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
 * </pre>
 */
public enum NodeState {
  /** Heartbeats arrive in time. The node gets work. */
  ALIVE,
  /** Heartbeats are late, or a call to it just failed. It gets work only if no ALIVE node can. */
  SUSPECT,
  /** Silent for longer than the dead timeout. It gets no work until it beats again. */
  DEAD,
  /** It said goodbye (a graceful shutdown). Not a failure. It gets no work. */
  LEFT;

  /** The legal transitions. Anything else is a bug in the caller and throws. */
  private static final Map<NodeState, Set<NodeState>> LEGAL = new EnumMap<>(NodeState.class);

  static {
    LEGAL.put(ALIVE, EnumSet.of(SUSPECT, LEFT));
    LEGAL.put(SUSPECT, EnumSet.of(ALIVE, DEAD, LEFT));
    LEGAL.put(DEAD, EnumSet.of(ALIVE, LEFT));
    // only a restarted process (a new incarnation) comes back from LEFT
    LEGAL.put(LEFT, EnumSet.of(ALIVE));
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
