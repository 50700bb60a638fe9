package ftlab.node.faults;

import io.grpc.Context;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The faults in force on this node now, shared by the Worker service (which applies them to each
 * task), the heartbeat sender (which stops beating while frozen or muted, and reports them in every
 * beat) and the NodeAdmin service (which changes them). Thread-safe.
 *
 * <p>Readers take {@link #current()}, one immutable {@link FaultPlan}: a task decides with the plan
 * it read, even if the faults change a moment later. Only a freeze is waited on ({@link
 * #awaitThaw}): tasks held by it are woken when it is lifted.
 */
public final class NodeFaults {
  private static final Logger log = LoggerFactory.getLogger("faults");

  private final String nodeId;
  private final ReentrantLock lock = new ReentrantLock();

  /** Signalled when the faults change, and when a held task's caller gives up. */
  private final Condition changed = lock.newCondition();

  /** Written under the lock; volatile so that the per-task and per-beat reads need no lock. */
  private volatile FaultPlan plan;

  public NodeFaults(String nodeId, FaultPlan initial) {
    this.nodeId = nodeId;
    this.plan = initial;
  }

  /** A node with no faults. */
  public static NodeFaults healthy(String nodeId) {
    return new NodeFaults(nodeId, FaultPlan.NONE);
  }

  public FaultPlan current() {
    return plan;
  }

  /**
   * SetFaults: the kinds given replace the current ones of the same kinds, the others stay (see
   * {@link FaultPlan#with}).
   *
   * @param by who asked, for the log
   * @return the faults in force afterwards
   */
  public FaultPlan set(FaultPlan given, String by) {
    return replace(plan -> plan.with(given), by);
  }

  /** Heal: no faults any more; tasks held by a freeze go on. */
  public FaultPlan heal(String by) {
    return replace(plan -> FaultPlan.NONE, by);
  }

  private FaultPlan replace(UnaryOperator<FaultPlan> change, String by) {
    FaultPlan now;
    lock.lock();
    try {
      now = change.apply(plan);
      plan = now;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    log.info("{} faults now: {} ({})", nodeId, now.isHealthy() ? "none" : now.describe(), by);
    return now;
  }

  /**
   * Holds the calling task while the node is frozen. Returns at once if it is not. The thread waits
   * on a condition (it burns no CPU) and wakes when the freeze is lifted or when {@code task} is
   * cancelled (the caller gave up, its deadline passed, or the node is shutting down).
   *
   * @return true when the node is not frozen (any more), false when the task was cancelled first
   */
  public boolean awaitThaw(Context task) throws InterruptedException {
    if (!plan.freeze()) {
      return true;
    }
    Context.CancellationListener wake =
        cancelled -> {
          lock.lock();
          try {
            changed.signalAll();
          } finally {
            lock.unlock();
          }
        };
    // Runs the listener at once if the task is already cancelled: no wake-up can be missed, since
    // the loop below checks isCancelled() under the lock that the listener takes.
    task.addListener(wake, Runnable::run);
    lock.lock();
    try {
      while (plan.freeze() && !task.isCancelled()) {
        changed.await();
      }
      return !plan.freeze();
    } finally {
      lock.unlock();
      task.removeListener(wake);
    }
  }
}
