package ftlab.client.status;

import ftlab.client.Coordinators;
import ftlab.proto.ClusterView;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Watches every coordinator's cluster view in the background and records each state change it sees,
 * with the time the coordinator says the change happened. Used by the benchmarks (time to detect)
 * and the multi-process tests (which transitions happened).
 *
 * <p>Times are this process's {@link System#nanoTime()}, never the coordinator's clock: the
 * coordinator reports only how long ago a change happened ({@code since_transition_ms = d}), as of
 * when it made the view, which was before the view's reply reached this process at r. So the change
 * happened at r - d at the latest, and that is the time recorded: a detection time measured from it
 * is never shorter than the truth (it may be longer by the view's trip back, about a millisecond on
 * loopback).
 */
public final class ViewRecorder implements AutoCloseable {

  /** A node entered a state, as one coordinator saw it, at {@code atNanos} at the latest. */
  public record Change(
      String coordinatorId, String nodeId, NodeState state, long atNanos, String reason) {}

  private final Coordinators coordinators;
  private final Duration period;
  private final Thread poller;
  private final List<Change> changes = new ArrayList<>();
  private final Map<String, ClusterView> latest = new HashMap<>();
  private final Map<String, String> lastKey = new HashMap<>();
  private final Map<Integer, String> idOf = new HashMap<>();
  private volatile boolean closed;

  /** Starts polling every coordinator every {@code period}. */
  public ViewRecorder(Coordinators coordinators, Duration period) {
    this.coordinators = coordinators;
    this.period = period;
    this.poller = new Thread(this::poll, "view-recorder");
    poller.setDaemon(true);
    poller.start();
  }

  private void poll() {
    while (!closed) {
      for (int i = 0; i < coordinators.size(); i++) {
        try {
          ClusterView view = coordinators.view(i, 500);
          record(i, view, System.nanoTime());
        } catch (StatusRuntimeException e) {
          forget(i); // down, or too slow to answer: what it last said may no longer hold
        }
      }
      try {
        TimeUnit.NANOSECONDS.sleep(period.toNanos());
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private synchronized void forget(int index) {
    String id = idOf.get(index);
    if (id != null) {
      latest.remove(id);
    }
  }

  private synchronized void record(int index, ClusterView view, long receivedNanos) {
    idOf.put(index, view.getCoordinatorId());
    latest.put(view.getCoordinatorId(), view);
    for (NodeView n : view.getNodesList()) {
      String key = view.getCoordinatorId() + "/" + n.getNodeId();
      // a new state, or the same state entered again (a new reason) is a change
      String seen = n.getState() + "|" + n.getLastTransitionReason();
      if (!seen.equals(lastKey.put(key, seen))) {
        changes.add(
            new Change(
                view.getCoordinatorId(),
                n.getNodeId(),
                n.getState(),
                receivedNanos - TimeUnit.MILLISECONDS.toNanos(n.getSinceTransitionMs()),
                n.getLastTransitionReason()));
      }
    }
  }

  /** Every change seen so far, in the order seen. */
  public synchronized List<Change> changes() {
    return List.copyOf(changes);
  }

  /** The states a node has been seen in, by any coordinator, since {@code afterNanos}. */
  public synchronized List<NodeState> statesSeen(String nodeId, long afterNanos) {
    List<NodeState> out = new ArrayList<>();
    for (Change c : changes) {
      if (c.nodeId().equals(nodeId) && c.atNanos() - afterNanos >= 0 && !out.contains(c.state())) {
        out.add(c.state());
      }
    }
    return out;
  }

  /**
   * When the coordinator first put the node into the state at or after {@code afterNanos}, if it
   * has.
   */
  public synchronized Optional<Long> entered(
      String coordinatorId, String nodeId, NodeState state, long afterNanos) {
    return changes.stream()
        .filter(
            c ->
                c.coordinatorId().equals(coordinatorId)
                    && c.nodeId().equals(nodeId)
                    && c.state() == state
                    && c.atNanos() - afterNanos >= 0)
        .map(Change::atNanos)
        .findFirst();
  }

  /**
   * Whether every one of these coordinators has the node in the state, by its latest view. A
   * coordinator whose last poll failed has no latest view (what it said before it went down may not
   * hold after it comes back), so it does not count as seeing anything.
   */
  public synchronized boolean allSee(String nodeId, NodeState state, List<String> coordinatorIds) {
    for (String id : coordinatorIds) {
      ClusterView v = latest.get(id);
      if (v == null) {
        return false;
      }
      Optional<NodeView> n =
          v.getNodesList().stream().filter(x -> x.getNodeId().equals(nodeId)).findFirst();
      if (n.isEmpty() || n.get().getState() != state) {
        return false;
      }
    }
    return true;
  }

  /** The latest view of each coordinator whose last poll it answered, by coordinator id. */
  public synchronized Map<String, ClusterView> latest() {
    return Map.copyOf(latest);
  }

  @Override
  public void close() {
    closed = true;
    poller.interrupt();
    try {
      poller.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
