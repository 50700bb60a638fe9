package ftlab.node;

import java.util.Locale;

/** How a task that reached this node ended, as only the node knows it. */
public enum TaskOutcome {
  /** Computed and answered with the right result. */
  ANSWERED,
  /** Computed, then answered with a wrong result on purpose: an injected lie. */
  LIED,
  /** Answered with an injected error instead of a result. */
  INJECTED_ERROR,
  /** Refused at once: the node was running as many tasks as its capacity. */
  BUSY,
  /** Refused at once: the node was draining (shutting down). */
  DRAINING,
  /** Refused at once: the task itself was malformed. */
  INVALID,
  /** The caller gave up (its deadline passed, or it no longer needed the answer). */
  CANCELLED,
  /** The node stopped it while shutting down, before it finished. */
  STOPPED;

  /** The word used as a metric tag: "answered", "injected_error"... */
  public String word() {
    return name().toLowerCase(Locale.ROOT);
  }
}
