package ftlab.coordinator.dispatch;

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
 *   <li>the fewest attempts this coordinator has in flight on it (exact and current);
 *   <li>then the fewest tasks the node itself reported (covers other coordinators' work);
 *   <li>then at random, so equal nodes share the work evenly.
 * </ol>
 */
public final class NodePicker {
  private static final Comparator<Candidate> LEAST_LOADED =
      Comparator.comparingInt(Candidate::coordinatorInFlight)
          .thenComparingInt(Candidate::reportedInFlight);

  private final RandomGenerator random;

  public NodePicker(RandomGenerator random) {
    this.random = random;
  }

  public Optional<Candidate> pick(List<Candidate> candidates, Set<String> alreadyTried) {
    for (NodeState preferred : List.of(NodeState.ALIVE, NodeState.SUSPECT)) {
      List<Candidate> best = new ArrayList<>();
      for (Candidate c : candidates) {
        if (c.state() != preferred || alreadyTried.contains(c.nodeId())) {
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
      if (!best.isEmpty()) {
        return Optional.of(best.get(random.nextInt(best.size())));
      }
    }
    return Optional.empty();
  }
}
