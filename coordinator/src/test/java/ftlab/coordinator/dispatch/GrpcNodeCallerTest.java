package ftlab.coordinator.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.inprocess.InProcessChannelBuilder;
import java.util.ArrayList;
import java.util.List;
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
}
