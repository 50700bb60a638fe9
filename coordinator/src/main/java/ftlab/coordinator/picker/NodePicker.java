package ftlab.coordinator.picker;

import ftlab.coordinator.membership.NodeState;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * Chooses the node for the next attempt. Pure: no IO, no clock; randomness is injected.
 *
 * <p>The rule, in order:
 *
 * <ol>
 *   <li>never a node already tried for this request, never a DEAD or LEFT node;
 *   <li>ALIVE nodes before SUSPECT ones (a SUSPECT node is only a last resort);
 *   <li>nodes of normal speed before slow ones (a slow node is a last resort among its peers);
 *   <li>the fewest attempts this coordinator has in flight on it (exact and current);
 *   <li>then the fewest tasks the node itself reported (covers other coordinators' work);
 *   <li>then at random, so equal nodes share the work evenly.
 * </ol>
 *
 * <p>Nodes that are {@link Candidate#full full} never reach the picker: the request leaves them out
 * of the round and waits for a slot instead (RequestRun).
 *
 * <p>A node is <em>slow</em> when its recent extra time ({@link Candidate#recentExtraNanos}) is
 * more than 20 ms and more than 4 times the median of the candidates'. Both, so that small
 * differences between healthy nodes (a fraction of a millisecond) never count, and neither does a
 * cold JVM's first few slow answers. A node slowed on every task (an overloaded machine, a bad
 * disk) would otherwise get its full share of requests and hold each one up; hedging cannot fix
 * that, since it may only repeat a small fraction of requests (docs/redundancy.md).
 */
public final class NodePicker {
  private static final Comparator<Candidate> LEAST_LOADED =
      Comparator.comparingInt(Candidate::coordinatorInFlight)
          .thenComparingInt(Candidate::reportedInFlight);

  private final RandomGenerator random;

  public NodePicker(RandomGenerator random) {
    this.random = random;
  }

  /** A node is slow beyond both: 20 ms of extra time, and 4 times the median candidate's. */
  static final long SLOW_MARGIN_NANOS = 20_000_000L;

  static final int SLOW_FACTOR = 4;

  public Optional<Candidate> pick(List<Candidate> candidates, Set<String> alreadyTried) {
    long slowAbove = slowAbove(candidates);
    for (NodeState preferred : List.of(NodeState.ALIVE, NodeState.SUSPECT)) {
      for (boolean slow : List.of(false, true)) {
        Optional<Candidate> c = pickAmong(candidates, alreadyTried, preferred, slow, slowAbove);
        if (c.isPresent()) {
          return c;
        }
      }
    }
    return Optional.empty();
  }

  /** Slowness beyond which a candidate counts as slow. */
  static long slowAbove(List<Candidate> candidates) {
    if (candidates.isEmpty()) {
      return Long.MAX_VALUE;
    }
    long[] s = candidates.stream().mapToLong(Candidate::recentExtraNanos).sorted().toArray();
    long median = s[(s.length - 1) / 2];
    return Math.max(SLOW_MARGIN_NANOS, SLOW_FACTOR * median);
  }

  private Optional<Candidate> pickAmong(
      List<Candidate> candidates,
      Set<String> alreadyTried,
      NodeState preferred,
      boolean slow,
      long slowAbove) {
    List<Candidate> best = new ArrayList<>();
    for (Candidate c : candidates) {
      if (c.state() != preferred
          || alreadyTried.contains(c.nodeId())
          || (c.recentExtraNanos() > slowAbove) != slow) {
        continue;
      }
      int cmp = best.isEmpty() ? -1 : LEAST_LOADED.compare(c, best.get(0));
      if (cmp < 0) {
        best.clear();
      }
      if (cmp <= 0) {
        best.add(c);
      }
    }
    return best.isEmpty() ? Optional.empty() : Optional.of(best.get(random.nextInt(best.size())));
  }
}
