package ftlab.client.status;

import ftlab.client.CoordinatorOption;
import ftlab.client.Coordinators;
import ftlab.proto.ClusterView;
import ftlab.proto.FaultWords;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import ftlab.proto.RedundancyWords;
import ftlab.proto.SecurityView;
import ftlab.security.Role;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code ftlab status}: the cluster as each coordinator sees it. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Show every node as each coordinator sees it: state, time since its last heartbeat, load,"
          + " answers, why it is in its state, and the faults injected into it ('ftlab chaos')"
          + " as its last heartbeat reported them.",
      "Each coordinator has its own view; they may briefly disagree."
    })
public final class StatusCommand implements Callable<Integer> {
  @Mixin CoordinatorOption coordinatorOption;

  @Override
  public Integer call() {
    int answered = 0;
    try (Coordinators coordinators =
        Coordinators.connected(
            coordinatorOption.resolve(),
            coordinatorOption.credentials("client", Role.COORDINATOR))) {
      for (int i = 0; i < coordinators.size(); i++) {
        if (i > 0) {
          System.out.println();
        }
        try {
          ClusterView view = coordinators.view(i, 2_000);
          System.out.print(table(view, coordinators.address(i)));
          answered++;
        } catch (StatusRuntimeException e) {
          System.out.println(
              "coordinator at " + coordinators.address(i) + ": " + Coordinators.explain(e));
        }
      }
    }
    return answered > 0 ? 0 : 1;
  }

  /** The view as a table, one row per node. */
  public static String table(ClusterView view, String address) {
    StringBuilder s = new StringBuilder();
    // columns as wide as the longest id, address and reason (a pool node's address is its
    // container's id); FAULTS comes last, after the reasons, so that it lines up
    int idWidth = 10;
    int addressWidth = 21;
    int whyWidth = 3;
    int stateWidth = 7; // SUSPECT; QUARANTINED widens it
    for (NodeView n : view.getNodesList()) {
      stateWidth = Math.max(stateWidth, n.getState().name().length());
      idWidth = Math.max(idWidth, n.getNodeId().length());
      addressWidth = Math.max(addressWidth, n.getAddress().length());
      whyWidth = Math.max(whyWidth, n.getLastTransitionReason().length());
    }
    s.append(
        String.format(
            "%s at %s: %d nodes; SUSPECT after %d ms, DEAD after %d ms without a heartbeat;"
                + " redundancy: %s%n",
            view.getCoordinatorId(),
            address,
            view.getNodesCount(),
            view.getDetector().getSuspectAfterMs(),
            view.getDetector().getDeadAfterMs(),
            view.hasRedundancy() ? RedundancyWords.describe(view.getRedundancy()) : "failover"));
    if (view.getHeartbeatsRefused() > 0 || view.getIdConflicts() > 0) {
      // the membership's guards (docs/security.md): forged or mistaken heartbeats
      s.append(
          String.format(
              "guards: %d heartbeat%s refused, %d id conflict%s; latest, %s ago: %s%n",
              view.getHeartbeatsRefused(),
              view.getHeartbeatsRefused() == 1 ? "" : "s",
              view.getIdConflicts(),
              view.getIdConflicts() == 1 ? "" : "s",
              age(view.getLastGuardEventAgeMs()),
              view.getLastGuardEvent()));
    }
    if (view.hasSecurity()) {
      s.append(security(view.getSecurity(), quarantined(view)));
    }
    String row =
        "%-"
            + idWidth
            + "s %-"
            + stateWidth
            + "s %-"
            + addressWidth
            + "s %10s %6s %8s %7s %8s %9s  %-"
            + whyWidth
            + "s  %s";
    s.append(
        String.format(
            row + "%n",
            "NODE",
            "STATE",
            "ADDRESS",
            "LAST BEAT",
            "LOAD",
            "ANSWERS",
            "FAILED",
            "EXTRA",
            "SINCE",
            "WHY",
            "FAULTS"));
    for (NodeView n : view.getNodesList()) {
      s.append(
          String.format(
              row + "%n",
              n.getNodeId(),
              n.getState(),
              n.getAddress(),
              age(n.getLastHeartbeatAgeMs()),
              n.getLoad().getInFlight() + "/" + n.getLoad().getCapacity(),
              n.getAnswers(),
              n.getFailedAttempts(),
              // how much slower than expected its recent answers were: a node far slower than
              // the others gets work only when they cannot take it
              String.format(Locale.ROOT, "%.1f ms", n.getRecentExtraMs()),
              age(n.getSinceTransitionMs()),
              n.getLastTransitionReason(),
              // as the node reported them in its last heartbeat
              FaultWords.describeOr(n.getFaults(), "-")));
    }
    return s.toString();
  }

  private static String age(long ms) {
    if (ms < 10_000) {
      return ms + " ms";
    }
    if (ms < 600_000) {
      return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }
    return ms / 60_000 + " min";
  }

  /**
   * "security: plaintext ..." or "security: mutual TLS as ...; 7 handshakes; refused: 2 by
   * authorization, 1 by identity; latest, 3 s ago: ..." (docs/security.md); in plaintext, rate
   * limits refuse too.
   */
  /** The nodes the vote has quarantined, in the table's order: the scoreboard's last layer. */
  static List<String> quarantined(ClusterView view) {
    return view.getNodesList().stream()
        .filter(n -> n.getState() == NodeState.QUARANTINED)
        .map(NodeView::getNodeId)
        .toList();
  }

  /**
   * The security line: the mode, then the defence scoreboard (what each layer refused, the latest
   * in words; who is revoked; who the vote quarantined: docs/security.md).
   */
  static String security(SecurityView security, List<String> quarantined) {
    StringBuilder line = new StringBuilder("security: ");
    if (security.getTls()) {
      line.append(security.getMode())
          .append("; ")
          .append(security.getHandshakes())
          .append(security.getHandshakes() == 1 ? " handshake" : " handshakes");
    } else {
      line.append(
          "plaintext (anyone who reaches a port may call anything; --tls-dir turns on mutual TLS,"
              + " docs/security.md)");
    }
    if (security.getRefusedCount() > 0) { // in plaintext: rate limits
      line.append("; refused: ")
          .append(
              new java.util.TreeMap<>(security.getRefusedMap())
                  .entrySet().stream()
                      .map(e -> e.getValue() + " by " + e.getKey())
                      .collect(java.util.stream.Collectors.joining(", ")))
          .append("; latest, ")
          .append(age(security.getLastRefusalAgeMs()))
          .append(" ago: ")
          .append(security.getLastRefusal());
    } else if (security.getTls()) {
      line.append("; nothing refused");
    }
    if (security.getRevokedCount() > 0) {
      line.append("; revoked: ").append(String.join(", ", security.getRevokedList()));
    }
    if (!quarantined.isEmpty()) {
      line.append("; quarantined by the vote: ").append(String.join(", ", quarantined));
    }
    return line.append(System.lineSeparator()).toString();
  }
}
