package ftlab.node;

import ftlab.node.faults.FaultPlan;
import ftlab.node.faults.NodeFaults;
import ftlab.proto.CrashReply;
import ftlab.proto.CrashRequest;
import ftlab.proto.FaultsReply;
import ftlab.proto.GetFaultsRequest;
import ftlab.proto.HealRequest;
import ftlab.proto.NodeAdminGrpc;
import ftlab.proto.SetFaultsRequest;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * NodeAdmin ({@code faults.proto}): switches the node's injected faults on and off, and crashes it
 * on request. Reached only through {@link AdminAccess}.
 */
final class NodeAdminService extends NodeAdminGrpc.NodeAdminImplBase {
  private static final Logger log = LoggerFactory.getLogger("admin");

  /**
   * How long after its reply a Crash halts the process: long enough for the reply to leave (it is a
   * few hundred bytes on an open connection), short enough to be "at once" for the learner.
   */
  static final Duration CRASH_DELAY = Duration.ofMillis(50);

  /**
   * What kill -9 does: the process ends at once, with no shutdown hooks (so no goodbye to the
   * coordinators and no drain), and exit code 137 = 128 + 9 (SIGKILL), as a shell reports it.
   */
  static final Runnable HALT = () -> Runtime.getRuntime().halt(137);

  private final String nodeId;
  private final NodeFaults faults;
  private final Runnable halt;

  /**
   * @param halt ends the process; {@link #HALT} in production, something milder in tests
   */
  NodeAdminService(String nodeId, NodeFaults faults, Runnable halt) {
    this.nodeId = nodeId;
    this.faults = faults;
    this.halt = halt;
  }

  @Override
  public void setFaults(SetFaultsRequest request, StreamObserver<FaultsReply> response) {
    FaultPlan given;
    try {
      given = FaultPlan.fromProto(request.getFaults());
    } catch (IllegalArgumentException e) {
      response.onError(
          Status.INVALID_ARGUMENT
              .withDescription(e.getMessage() + "; the faults are unchanged")
              .asException());
      return;
    }
    reply(faults.set(given, "SetFaults from " + caller()), response);
  }

  @Override
  public void heal(HealRequest request, StreamObserver<FaultsReply> response) {
    reply(faults.heal("Heal from " + caller()), response);
  }

  @Override
  public void getFaults(GetFaultsRequest request, StreamObserver<FaultsReply> response) {
    reply(faults.current(), response);
  }

  @Override
  public void crash(CrashRequest request, StreamObserver<CrashReply> response) {
    log.warn(
        "{} crashing on request (Crash from {}): halting in {} ms with exit code 137, no goodbye",
        nodeId,
        caller(),
        CRASH_DELAY.toMillis());
    response.onNext(CrashReply.newBuilder().setNodeId(nodeId).build());
    response.onCompleted();
    // From a thread of its own, so that this call can complete and its reply leave first.
    Thread crash =
        new Thread(
            () -> {
              try {
                Thread.sleep(CRASH_DELAY.toMillis());
              } catch (InterruptedException e) {
                // crash all the same: that is what was asked
              }
              halt.run();
            },
            "crash");
    crash.setDaemon(true);
    crash.start();
  }

  private void reply(FaultPlan now, StreamObserver<FaultsReply> response) {
    response.onNext(
        FaultsReply.newBuilder()
            .setNodeId(nodeId)
            .setFaults(now.toProto())
            .setDescription(now.describe())
            .build());
    response.onCompleted();
  }

  private static String caller() {
    String caller = AdminAccess.CALLER.get();
    return caller == null ? "unknown caller" : caller;
  }
}
