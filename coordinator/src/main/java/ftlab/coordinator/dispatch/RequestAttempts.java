package ftlab.coordinator.dispatch;

import ftlab.coordinator.membership.NodeSnapshot;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptWords;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

/**
 * The attempts of one request, in the order they started, and what can be read off them: how many
 * run, who answered what, and the sentences that explain a failure. Guarded by its {@link
 * RequestRun}'s lock.
 */
final class RequestAttempts {
  private final List<AttemptOnNode> all = new ArrayList<>();

  /** The attempts that answered, in the order the answers came (not the order they started). */
  private final List<AttemptOnNode> answeredInOrder = new ArrayList<>();

  void add(AttemptOnNode a) {
    all.add(a);
  }

  /** Every attempt, in the order they started. */
  List<AttemptOnNode> all() {
    return all;
  }

  int started() {
    return all.size();
  }

  int running() {
    int n = 0;
    for (AttemptOnNode a : all) {
      n += a.ended ? 0 : 1;
    }
    return n;
  }

  /** The attempt has just answered. */
  void answered(AttemptOnNode a) {
    answeredInOrder.add(a);
  }

  /** Every answer (in vote mode, every vote), in the order they came. */
  List<RequestView.Answered> answers() {
    List<RequestView.Answered> out = new ArrayList<>();
    for (AttemptOnNode a : answeredInOrder) {
      out.add(new RequestView.Answered(a.nodeId(), a.kind, a.record.getResult()));
    }
    return out;
  }

  /** Nodes that answered: each gives one answer (one vote) per request. */
  Set<String> answeredNodes() {
    Set<String> out = new HashSet<>();
    for (AttemptOnNode a : all) {
      if (a.answered()) {
        out.add(a.nodeId());
      }
    }
    return out;
  }

  /** Nodes running an attempt now, or that answered. */
  Set<String> runningOrAnsweredNodes() {
    Set<String> out = answeredNodes();
    for (AttemptOnNode a : all) {
      if (!a.ended) {
        out.add(a.nodeId());
      }
    }
    return out;
  }

  /** The provenance of every attempt, for the answer. */
  List<Attempt> records() {
    return all.stream().map(a -> a.record.build()).toList();
  }

  /** "3 attempts: node-1 OK, node-2 OK, node-3 still running". */
  String soFar() {
    if (all.isEmpty()) {
      return "no attempt was made";
    }
    StringJoiner s = new StringJoiner(", ", all.size() + " attempts: ", "");
    for (AttemptOnNode a : all) {
      s.add(a.nodeId() + " " + AttemptWords.outcome(a.record));
    }
    return s.toString();
  }

  /**
   * "no node could answer: node-1 failed: UNAVAILABLE (...); node-2 is DEAD (...)": for each node
   * the coordinator knows, how its last attempt failed, or why it got none.
   *
   * @param full the nodes whose task slots are all taken now ({@link
   *     ftlab.coordinator.picker.Candidate#full}): not asked, and said so
   */
  String whyNoNode(List<NodeSnapshot> nodes, Set<String> full) {
    if (nodes.isEmpty()) {
      return "no node could answer: this coordinator has not heard from any node yet (nodes join"
          + " by sending heartbeats; are they configured with this coordinator's address?)";
    }
    StringJoiner why = new StringJoiner("; ", "no node could answer: ", "");
    for (NodeSnapshot n : nodes) {
      Optional<Attempt.Builder> last =
          all.stream()
              .map(a -> a.record)
              .filter(r -> r.getNodeId().equals(n.nodeId()))
              .reduce((first, second) -> second);
      if (last.isPresent()) {
        why.add(
            n.nodeId()
                + " failed: "
                + AttemptWords.outcome(last.get())
                + " ("
                + last.get().getDetail()
                + ")");
      } else if (full.contains(n.nodeId())) {
        why.add(
            n.nodeId()
                + " is full: its "
                + n.capacity()
                + " task slots hold this coordinator's attempts (not asked)");
      } else {
        why.add(n.nodeId() + " is " + n.state() + " (" + n.reason() + ")");
      }
    }
    return why.toString();
  }
}
