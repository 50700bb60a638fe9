package ftlab.coordinator.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.proto.ComputeRequest;
import ftlab.proto.Echo;
import ftlab.proto.Task;
import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The connections to nodes: kept while a node comes and goes quickly, replaced when it was gone.
 */
class GrpcNodeCallerTest {
  private final List<ManagedChannel> opened = new ArrayList<>();

  private final GrpcNodeCaller caller =
      new GrpcNodeCaller(
          address -> {
            ManagedChannel c = InProcessChannelBuilder.forName(address).directExecutor().build();
            opened.add(c);
            return c;
          });

  @Test
  void aNodeBackFromSuspicionKeepsItsConnection() {
    caller.reconnectNow("node-1:7101");
    caller.reconnectNow("node-1:7101");

    assertThat(opened).hasSize(1);
    assertThat(opened.get(0).isShutdown()).isFalse();
    caller.close();
  }

  @Test
  void aNodeBackFromTheDeadGetsAFreshConnectionAndTheOldOneIsClosed() {
    caller.reconnectNow("node-1:7101");
    caller.reconnectNow("node-2:7101");

    caller.connectAfresh("node-1:7101");

    assertThat(opened).hasSize(3);
    assertThat(opened.get(0).isShutdown()).as("node-1's old connection").isTrue();
    assertThat(opened.get(1).isShutdown()).as("node-2's connection").isFalse();
    assertThat(opened.get(2).isShutdown()).as("node-1's new connection").isFalse();
    caller.close();
    assertThat(opened).allMatch(ManagedChannel::isShutdown);
  }

  @Test
  void nothingIsOpenedAfterClose() {
    caller.reconnectNow("node-1:7101");
    caller.close();

    caller.connectAfresh("node-1:7101");
    caller.reconnectNow("node-2:7101");

    assertThat(opened).hasSize(1).allMatch(ManagedChannel::isShutdown);
  }

  @Test
  void aNodeNeverConnectedToGetsItsFirstConnection() {
    caller.connectAfresh("node-3:7101");

    assertThat(opened).hasSize(1);
    assertThat(opened.get(0).isShutdown()).isFalse();
    caller.close();
  }

  @Test
  void aConnectionFromALostLocalAddressIsReplacedAndTheOthersKept() throws Exception {
    FakeWorker node1 =
        FakeWorker.serving("node-1", "gnc-node-1:7101", FakeWorker.Behaviour.HEALTHY);
    FakeWorker node2 =
        FakeWorker.serving("node-2", "gnc-node-2:7101", FakeWorker.Behaviour.HEALTHY);
    try {
      ComputeRequest request =
          ComputeRequest.newBuilder()
              .setRequestId("r1")
              .setTask(Task.newBuilder().setEcho(Echo.newBuilder().setValue("hi")))
              .build();
      caller.compute("gnc-node-1:7101", "node-1", request, 5_000_000_000L).get(5, TimeUnit.SECONDS);
      caller.reconnectNow("gnc-node-2:7101"); // connected, but no call answered on it yet
      assertThat(opened).hasSize(2);

      assertThat(caller.dropConnectionsFrom(local -> false)).as("nothing lost").isEmpty();
      assertThat(opened).hasSize(2);

      Map<String, SocketAddress> dropped = caller.dropConnectionsFrom(local -> true);

      // only the connection an answer came over knows its local end
      assertThat(dropped).containsOnlyKeys("gnc-node-1:7101");
      assertThat(opened).hasSize(3);
      assertThat(opened.get(0).isShutdown()).as("node-1's old connection").isTrue();
      assertThat(opened.get(1).isShutdown()).as("node-2's connection").isFalse();
      assertThat(
              caller
                  .compute("gnc-node-1:7101", "node-1", request, 5_000_000_000L)
                  .get(5, TimeUnit.SECONDS)
                  .getNodeId())
          .as("answered on the new connection")
          .isEqualTo("node-1");
      assertThat(caller.dropConnectionsFrom(local -> false)).isEmpty();
    } finally {
      caller.close();
      node1.crash();
      node2.crash();
    }
  }
}
