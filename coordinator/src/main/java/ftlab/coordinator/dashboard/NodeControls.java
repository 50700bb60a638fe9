package ftlab.coordinator.dashboard;

import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.NodeSnapshot;
import ftlab.proto.CrashRequest;
import ftlab.proto.FaultWords;
import ftlab.proto.Faults;
import ftlab.proto.FaultsReply;
import ftlab.proto.HealRequest;
import ftlab.proto.Lie;
import ftlab.proto.NodeAdminGrpc;
import ftlab.proto.SetFaultsRequest;
import ftlab.proto.Slow;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The dashboard's fault buttons: each one replaces the node's injected faults with one fault (as
 * {@code ftlab chaos} does), through the node's own admin service at the address its heartbeats
 * give. Blocking calls, made on the HTTP server's thread, never on the coordinator's network
 * thread.
 */
final class NodeControls {
  /** The faults a button injects, by the word in its URL. */
  static final Map<String, Faults> FAULTS =
      Map.of(
          "slow", Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(500)).build(),
          "error",
              Faults.newBuilder().setError(ftlab.proto.Error.newBuilder().setFraction(0.5)).build(),
          "lie", Faults.newBuilder().setLie(Lie.newBuilder().setFraction(0.3)).build(),
          "freeze", Faults.newBuilder().setFreeze(true).build(),
          "mute-heartbeats", Faults.newBuilder().setMuteHeartbeats(true).build());

  private static final long DEADLINE_MS = 2_000;

  private final Cluster cluster;
  private final Function<String, ManagedChannel> channels;

  NodeControls(Cluster cluster, Function<String, ManagedChannel> channels) {
    this.cluster = cluster;
    this.channels = channels;
  }

  /** What happened, in a sentence; {@code ok} false if it did not. */
  record Result(boolean ok, int httpStatus, String message) {}

  Result apply(String nodeId, String action) {
    Optional<NodeSnapshot> node = cluster.node(nodeId);
    if (node.isEmpty()) {
      return new Result(false, 404, "no node " + nodeId + " here");
    }
    if (!action.equals("heal") && !action.equals("crash") && !FAULTS.containsKey(action)) {
      return new Result(
          false,
          400,
          "unknown action '"
              + action
              + "': one of slow, error, lie, freeze, mute-heartbeats, crash, heal");
    }
    ManagedChannel channel = channels.apply(node.get().address());
    try {
      NodeAdminGrpc.NodeAdminBlockingStub admin =
          NodeAdminGrpc.newBlockingStub(channel)
              .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS);
      if (action.equals("crash")) {
        admin.crash(CrashRequest.getDefaultInstance());
        return new Result(true, 200, nodeId + " is crashing: it halts without a goodbye");
      }
      FaultsReply reply =
          action.equals("heal")
              ? admin.heal(HealRequest.getDefaultInstance())
              : admin.setFaults(
                  SetFaultsRequest.newBuilder().setFaults(FAULTS.get(action)).build());
      return new Result(
          true, 200, nodeId + " now has: " + FaultWords.describeOr(reply.getFaults(), "no faults"));
    } catch (StatusRuntimeException e) {
      return new Result(
          false,
          502,
          nodeId
              + " at "
              + node.get().address()
              + " did not take it: "
              + e.getStatus().getCode()
              + (e.getStatus().getDescription() == null
                  ? ""
                  : ": " + e.getStatus().getDescription()));
    } finally {
      channel.shutdownNow();
    }
  }
}
