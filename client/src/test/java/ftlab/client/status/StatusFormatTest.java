package ftlab.client.status;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.proto.ClusterView;
import ftlab.proto.DetectorSettings;
import ftlab.proto.Faults;
import ftlab.proto.Lie;
import ftlab.proto.Load;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import ftlab.proto.SecurityView;
import ftlab.proto.Slow;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What {@code ftlab status} prints. */
class StatusFormatTest {

  private static NodeView node(String id, NodeState state, String why) {
    return NodeView.newBuilder()
        .setNodeId(id)
        .setState(state)
        .setAddress("127.0.0.1:7102")
        .setLastHeartbeatAgeMs(62)
        .setLoad(Load.newBuilder().setInFlight(1).setCapacity(4))
        .setAnswers(6)
        .setLastTransitionReason(why)
        .setSinceTransitionMs(11_700)
        .build();
  }

  private static ClusterView view(NodeView... nodes) {
    return ClusterView.newBuilder()
        .setCoordinatorId("coordinator-1")
        .setDetector(DetectorSettings.newBuilder().setSuspectAfterMs(300).setDeadAfterMs(600))
        .addAllNodes(List.of(nodes))
        .build();
  }

  private static NodeView withFaults(NodeView n, Faults faults) {
    return n.toBuilder().setFaults(faults).build();
  }

  private static final Faults LIE =
      Faults.newBuilder().setLie(Lie.newBuilder().setFraction(0.3)).build();

  @Test
  void theFaultsColumnComesLastInWordsAndLinesUp() {
    ClusterView view =
        view(
            // no faults: the field is unset, as the heartbeats of a healthy node leave it
            node("node-1", NodeState.ALIVE, "first heartbeat (incarnation 17, 127.0.0.1:7101)"),
            withFaults(node("node-2", NodeState.ALIVE, "first heartbeat"), LIE),
            withFaults(
                node("node-3", NodeState.ALIVE, "no heartbeat for 610 ms (threshold 6 x 100 ms)"),
                Faults.newBuilder()
                    .setSlow(Slow.newBuilder().setDelayMs(200).setJitterMs(50).setFraction(0.1))
                    .setMuteHeartbeats(true)
                    .build()));

    List<String> lines = StatusCommand.table(view, "127.0.0.1:7001").lines().toList();

    assertThat(lines).hasSize(5);
    assertThat(lines.get(0))
        .isEqualTo(
            "coordinator-1 at 127.0.0.1:7001: 3 nodes; SUSPECT after 300 ms, DEAD after 600 ms"
                + " without a heartbeat; redundancy: failover");
    assertThat(lines.get(1)).startsWith("NODE ").contains("  WHY ").endsWith("  FAULTS");
    assertThat(lines.get(2)).endsWith("  -").contains("62 ms", "1/4", "11.7 s");
    assertThat(lines.get(3)).endsWith("  lie on 30% of tasks");
    assertThat(lines.get(4)).endsWith("  slow 200-250 ms on 10% of tasks; mute-heartbeats");
    // every row's faults start under the header's FAULTS, after the longest reason
    int column = lines.get(1).indexOf("FAULTS");
    assertThat(lines.get(2).substring(column)).isEqualTo("-");
    assertThat(lines.get(3).substring(column)).isEqualTo("lie on 30% of tasks");
  }

  @Test
  void anEmptyClusterStillHasItsHeader() {
    List<String> lines = StatusCommand.table(view(), "127.0.0.1:7001").lines().toList();

    assertThat(lines).hasSize(2);
    assertThat(lines.get(1)).endsWith("WHY  FAULTS");
  }

  @Test
  void whatTheGuardsDidShowsUnderTheHeaderOnlyWhenTheyDidSomething() {
    ClusterView quiet = view(node("node-1", NodeState.ALIVE, "first heartbeat"));
    assertThat(StatusCommand.table(quiet, "127.0.0.1:7001")).doesNotContain("guards");

    ClusterView attacked =
        quiet.toBuilder()
            .setHeartbeatsRefused(2740)
            .setIdConflicts(1)
            .setLastGuardEvent(
                "refused a heartbeat from ghost-3000 at 127.0.0.1:1: this coordinator already"
                    + " tracks 128 nodes, its limit (--max-nodes), none of them DEAD or LEFT: a new"
                    + " node id is refused until one is")
            .setLastGuardEventAgeMs(2_100)
            .build();
    assertThat(StatusCommand.table(attacked, "127.0.0.1:7001").lines().toList().get(1))
        .isEqualTo(
            "guards: 2740 heartbeats refused, 1 id conflict; latest, 2100 ms ago: refused a"
                + " heartbeat from ghost-3000 at 127.0.0.1:1: this coordinator already tracks 128"
                + " nodes, its limit (--max-nodes), none of them DEAD or LEFT: a new node id is"
                + " refused until one is");
  }

  @Test
  void theSecurityLineIsTheScoreboardWithTheVoteLast() {
    ClusterView view =
        view(
                node("node-1", NodeState.ALIVE, "first heartbeat"),
                node("node-4", NodeState.QUARANTINED, "outvoted 3 times in its last 5 votes"),
                node("node-2", NodeState.QUARANTINED, "outvoted 3 times in its last 5 votes"))
            .toBuilder()
            .setSecurity(
                SecurityView.newBuilder()
                    .setTls(true)
                    .setMode("mutual TLS as coordinator coordinator-1")
                    .setHandshakes(9)
                    .putRefused("identity", 2)
                    .putRefused("handshake", 1)
                    .setLastRefusal("identity refused node node-5 at 10.0.3.7:5123 (...): ...")
                    .setLastRefusalAgeMs(40)
                    .addRevoked("node-3"))
            .build();
    assertThat(StatusCommand.table(view, "127.0.0.1:7001").lines().toList().get(1))
        .isEqualTo(
            "security: mutual TLS as coordinator coordinator-1; 9 handshakes; refused: 1 by"
                + " handshake, 2 by identity; latest, 40 ms ago: identity refused node node-5 at"
                + " 10.0.3.7:5123 (...): ...; revoked: node-3; quarantined by the vote: node-4,"
                + " node-2");

    ClusterView calm =
        view.toBuilder()
            .clearNodes()
            .addNodes(node("node-1", NodeState.ALIVE, "first heartbeat"))
            .setSecurity(SecurityView.newBuilder().setTls(true).setMode("mutual TLS").build())
            .build();
    assertThat(StatusCommand.table(calm, "127.0.0.1:7001").lines().toList().get(1))
        .isEqualTo("security: mutual TLS; 0 handshakes; nothing refused");
  }
}
