package ftlab.coordinator.dispatch;

import java.util.ArrayList;
import java.util.List;

/**
 * What a decision taken under a request's lock leaves to do once the lock is released, in this
 * order: bookkeeping (load counters, evidence for the failure detector, votes), handing the events
 * decided to the listeners ({@link DispatchEvent}), cancelling attempts, launching attempts
 * (network calls, whose answers may come back at once, on this thread), then the rest (answering
 * the client, scheduling), and last the task slots freed, each handed to the oldest waiting request
 * ({@link Waiters}: that request's next round runs on this thread, after this request's own answer
 * is on its way). Bookkeeping goes first so that whoever gets the answer sees the cluster as it was
 * when the answer was decided.
 */
final class AfterLock {
  final List<Runnable> bookkeeping = new ArrayList<>();
  final List<AttemptOnNode> cancel = new ArrayList<>();
  final List<AttemptOnNode> launch = new ArrayList<>();
  final List<Runnable> then = new ArrayList<>();

  /** Task slots this decision gave back at the nodes (attempts that ended). */
  int slotsFreed;
}
