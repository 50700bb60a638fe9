package ftlab.client.watch;

import ftlab.client.Coordinators;
import ftlab.client.Poll;
import ftlab.proto.ClusterView;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.function.Consumer;

/**
 * Before a watch starts counting: waits, bounded, until the coordinators have a node to send work
 * to. A lab started a moment ago has coordinators that answer before any node's first heartbeat
 * reached them; requests sent then would wait for a node that is still starting and count as
 * failures of the cluster, when all they show is the start-up.
 *
 * <p>Ready means: at least one coordinator answered, and every coordinator that answered has a node
 * ALIVE. A coordinator that does not answer at all is not waited for (nothing listens there, or it
 * refuses us): the requests will fail over from it and say why, which is what a learner who stopped
 * it wants to see.
 */
final class NodesReady {
  private NodesReady() {}

  /** What one look at the coordinators found. */
  record Look(List<Seen> seen) {
    /** At least one answered, and each that answered has a node ALIVE. */
    boolean ready() {
      return seen.stream().anyMatch(Seen::answered)
          && seen.stream().filter(Seen::answered).allMatch(s -> s.alive() > 0);
    }

    /** "coordinator-1 3 of 3 nodes ALIVE, 127.0.0.1:7002 no answer (...)". */
    String describe() {
      StringJoiner j = new StringJoiner(", ");
      for (Seen s : seen) {
        j.add(
            s.answered()
                ? s.name() + " " + s.alive() + " of " + s.known() + " nodes ALIVE"
                : s.name() + " no answer (" + s.error() + ")");
      }
      return j.toString();
    }
  }

  /** One coordinator's answer: how many nodes it knows and has ALIVE, or why it did not answer. */
  record Seen(String name, boolean answered, int known, int alive, String error) {
    static Seen of(ClusterView view) {
      int alive = 0;
      for (NodeView n : view.getNodesList()) {
        if (n.getState() == NodeState.ALIVE) {
          alive++;
        }
      }
      return new Seen(view.getCoordinatorId(), true, view.getNodesCount(), alive, "");
    }

    static Seen noAnswer(String address, String error) {
      return new Seen(address, false, 0, 0, error);
    }
  }

  static Look look(Coordinators coordinators) {
    List<Seen> seen = new ArrayList<>();
    for (int i = 0; i < coordinators.size(); i++) {
      try {
        seen.add(Seen.of(coordinators.view(i, 1_000)));
      } catch (StatusRuntimeException e) {
        seen.add(Seen.noAnswer(coordinators.address(i), Coordinators.explain(e)));
      }
    }
    return new Look(seen);
  }

  /**
   * Waits at most {@code atMost} until the coordinators are ready, telling {@code say} once when it
   * starts waiting and once when it stops; says nothing if they are ready at the first look.
   *
   * @return whether they were ready
   */
  static boolean await(Coordinators coordinators, Duration atMost, Consumer<String> say)
      throws InterruptedException {
    Look first = look(coordinators);
    if (first.ready() || atMost.isZero()) {
      return first.ready();
    }
    say.accept(
        "waiting up to "
            + atMost.toSeconds()
            + " s for a node ALIVE before counting: "
            + first.describe());
    long start = System.nanoTime();
    Look[] last = {first};
    Optional<Look> ready =
        Poll.until(
            atMost,
            Duration.ofMillis(200),
            () -> {
              last[0] = look(coordinators);
              return last[0].ready() ? Optional.of(last[0]) : Optional.empty();
            });
    double waited = (System.nanoTime() - start) / 1e9;
    if (ready.isPresent()) {
      say.accept(String.format("ready after %.1f s: %s", waited, ready.get().describe()));
      return true;
    }
    say.accept(
        String.format(
            "still not ready after %.0f s (%s); counting anyway: the requests will say why",
            waited, last[0].describe()));
    return false;
  }
}
