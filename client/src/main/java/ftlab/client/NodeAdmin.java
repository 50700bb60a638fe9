package ftlab.client;

import ftlab.proto.CrashRequest;
import ftlab.proto.Faults;
import ftlab.proto.FaultsReply;
import ftlab.proto.GetFaultsRequest;
import ftlab.proto.HealRequest;
import ftlab.proto.NodeAdminGrpc;
import ftlab.proto.SetFaultsRequest;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.util.concurrent.TimeUnit;

/**
 * One node's admin service (fault injection, {@code faults.proto}) at a known address, for {@code
 * ftlab chaos}, the benchmarks and the tests that break nodes from inside. {@code ftlab chaos} does
 * more around the same calls: it finds the address, checks the node's identity first, and confirms
 * the effect.
 */
public final class NodeAdmin implements AutoCloseable {
  /** Deadline of every call: the admin service answers at once, even while the node is frozen. */
  private static final long DEADLINE_MS = 2_000;

  private final ManagedChannel channel;

  /**
   * @param address the node's host:port
   */
  public NodeAdmin(String address) {
    this(address, InsecureChannelCredentials.create());
  }

  /**
   * @param address the node's host:port
   * @param credentials plaintext, or mutual TLS as an admin ({@link CoordinatorOption#credentials})
   */
  public NodeAdmin(String address, ChannelCredentials credentials) {
    this.channel =
        Grpc.newChannelBuilder(address, credentials)
            // as every channel here (architecture.md): a late failed lookup keeps a working link
            .defaultLoadBalancingPolicy("round_robin")
            .build();
  }

  private NodeAdminGrpc.NodeAdminBlockingStub stub() {
    return NodeAdminGrpc.newBlockingStub(channel)
        .withDeadlineAfter(DEADLINE_MS, TimeUnit.MILLISECONDS);
  }

  /** The node's id and the faults in force now. */
  public FaultsReply faults() {
    return stub().getFaults(GetFaultsRequest.getDefaultInstance());
  }

  /** Puts these faults in force; no faults at all heals the node. */
  public FaultsReply set(Faults faults) {
    if (faults.equals(Faults.getDefaultInstance())) {
      return heal();
    }
    return stub().setFaults(SetFaultsRequest.newBuilder().setFaults(faults).build());
  }

  /** Clears every fault. */
  public FaultsReply heal() {
    return stub().heal(HealRequest.getDefaultInstance());
  }

  /** The node exits at once, like kill -9, right after replying. */
  public void crash() {
    stub().crash(CrashRequest.getDefaultInstance());
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
