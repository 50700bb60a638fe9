package ftlab.coordinator.dispatch;

import ftlab.proto.Ballot;
import ftlab.proto.TaskResult;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The votes of one request in vote mode: which node returned which result. Pure and not
 * thread-safe; {@link VotePolicy} makes one from the votes so far each time it decides.
 *
 * <p>Results are compared exactly (tasks are deterministic, so honest nodes agree bit for bit). A
 * result wins when a strict majority of the replicas returned it: 2 of 3 is an answer, 1-1-1 is
 * not, and neither is 1 of 3 with two nodes silent. No majority is an error, never a guess.
 */
final class VoteTally {
  /** Each distinct result and the nodes that returned it, in the order results first arrived. */
  private final Map<TaskResult, List<String>> byResult = new LinkedHashMap<>();

  private int votes;

  /** The tally of these votes, in the order they came. */
  static VoteTally of(List<RequestView.Answered> votes) {
    VoteTally t = new VoteTally();
    votes.forEach(v -> t.add(v.nodeId(), v.result()));
    return t;
  }

  void add(String nodeId, TaskResult result) {
    byResult.computeIfAbsent(result, r -> new ArrayList<>()).add(nodeId);
    votes++;
  }

  int votes() {
    return votes;
  }

  int distinctResults() {
    return byResult.size();
  }

  /** How many votes the most common result has (0 before any vote). */
  int leaderCount() {
    return byResult.values().stream().mapToInt(List::size).max().orElse(0);
  }

  /** The result with at least {@code majority} votes, if there is one. */
  Optional<TaskResult> winner(int majority) {
    return byResult.entrySet().stream()
        .filter(e -> e.getValue().size() >= majority)
        .map(Map.Entry::getKey)
        .findFirst();
  }

  /** Every node that has voted. */
  Set<String> voters() {
    Set<String> out = new HashSet<>();
    byResult.values().forEach(out::addAll);
    return out;
  }

  /** The nodes that voted for {@code result}. */
  List<String> votersFor(TaskResult result) {
    return List.copyOf(byResult.getOrDefault(result, List.of()));
  }

  /** Every node that voted, and whether it voted against {@code winner}. */
  Map<String, Boolean> outvoted(TaskResult winner) {
    Map<String, Boolean> out = new LinkedHashMap<>();
    byResult.forEach((result, nodes) -> nodes.forEach(n -> out.put(n, !result.equals(winner))));
    return out;
  }

  /** Every distinct result with its voters, the most voted first. */
  List<Ballot> ballots() {
    List<Ballot> out = new ArrayList<>();
    byResult.forEach(
        (result, nodes) ->
            out.add(Ballot.newBuilder().setResult(result).addAllNodeIds(nodes).build()));
    out.sort(Comparator.comparingInt(Ballot::getNodeIdsCount).reversed());
    return out;
  }

  /** "2 votes for 25 (node-1, node-3), 1 for 26 (node-2)". */
  String describe() {
    List<String> parts = new ArrayList<>();
    for (Ballot b : ballots()) {
      parts.add(
          b.getNodeIdsCount()
              + (parts.isEmpty() ? (b.getNodeIdsCount() == 1 ? " vote" : " votes") : "")
              + " for "
              + ftlab.task.Tasks.describe(b.getResult())
              + " ("
              + String.join(", ", b.getNodeIdsList())
              + ")");
    }
    return parts.isEmpty() ? "no votes" : String.join(", ", parts);
  }
}
