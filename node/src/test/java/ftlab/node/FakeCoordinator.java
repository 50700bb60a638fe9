package ftlab.node;

import ftlab.proto.HeartbeatReply;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.LeaveReply;
import ftlab.proto.LeaveRequest;
import ftlab.proto.MembershipGrpc;
import ftlab.proto.NodeState;
import io.grpc.Server;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for a coordinator, as far as a node can see one: its Membership service, on the
 * in-process transport. It records every heartbeat and every goodbye (Leave) it receives, in order
 * of arrival, and either answers at once or never answers at all.
 *
 * <p>It has no failure detector: the tests look at what the node sent, not at what a coordinator
 * would conclude from it (that is the coordinator module's business).
 */
final class FakeCoordinator {

  /** How the fake behaves towards callers. */
  enum Behaviour {
    /** Answers every call at once: heartbeats with ALIVE, goodbyes with an acknowledgement. */
    ANSWERS,
    /**
     * Records every call but never answers it: a coordinator that is frozen (SIGSTOP, a long GC
     * pause). Callers see nothing until they give up (a node gives up on a beat after 2 intervals
     * of its clock); the connection itself stays up.
     */
    FROZEN
  }

  private final String name;
  private final Server server;
  // written by whichever thread made the call (the server runs handlers on the caller's thread),
  // read by the test thread
  private final List<HeartbeatRequest> heartbeats = new CopyOnWriteArrayList<>();
  private final List<LeaveRequest> leaves = new CopyOnWriteArrayList<>();
  // heartbeat calls not answered and not cancelled by the node, now and at most
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicInteger mostOpen = new AtomicInteger();
  private final AtomicInteger connections = new AtomicInteger();
  // set by the test thread, read on the callers' threads
  private volatile Behaviour behaviour;

  private FakeCoordinator(String name, Behaviour behaviour) {
    this.name = name;
    this.server =
        InProcessServerBuilder.forName(name)
            .directExecutor() // see InProcessGrpc.directChannel
            .addService(new Membership(behaviour))
            .addTransportFilter(
                new io.grpc.ServerTransportFilter() {
                  @Override
                  public io.grpc.Attributes transportReady(io.grpc.Attributes attributes) {
                    connections.incrementAndGet();
                    return attributes;
                  }
                })
            .build();
  }

  /**
   * Starts a fake coordinator under {@code name}. Starting one under the name of a stopped one is
   * how a test restarts a coordinator: the node's channel finds the new server under the old name.
   */
  static FakeCoordinator start(InProcessGrpc grpc, String name, Behaviour behaviour) {
    FakeCoordinator coordinator = new FakeCoordinator(name, behaviour);
    try {
      grpc.register(coordinator.server.start());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return coordinator;
  }

  String name() {
    return name;
  }

  /** Every heartbeat received so far, oldest first. */
  List<HeartbeatRequest> heartbeats() {
    return List.copyOf(heartbeats);
  }

  /** The newest heartbeat received, or null if none has come yet. */
  HeartbeatRequest lastHeartbeat() {
    List<HeartbeatRequest> all = heartbeats();
    return all.isEmpty() ? null : all.get(all.size() - 1);
  }

  /**
   * The most heartbeat calls that were waiting at once for a reply (a frozen coordinator's: the
   * node gives each up after a while, which ends it here).
   */
  int mostHeartbeatsOpenAtOnce() {
    return mostOpen.get();
  }

  /** From now on, answers nothing more: frozen after it worked (SIGSTOP). */
  void freeze() {
    behaviour = Behaviour.FROZEN;
  }

  /** The connections callers opened to it so far. */
  int connections() {
    return connections.get();
  }

  /** Every goodbye received so far, oldest first. */
  List<LeaveRequest> leaves() {
    return List.copyOf(leaves);
  }

  /**
   * Stops at once, like a crashed coordinator: calls in progress fail, and the name is free again
   * for a restart.
   */
  void stop() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }

  private final class Membership extends MembershipGrpc.MembershipImplBase {
    Membership(Behaviour behaviour) {
      FakeCoordinator.this.behaviour = behaviour;
    }

    @Override
    public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatReply> response) {
      heartbeats.add(request);
      if (behaviour == Behaviour.ANSWERS) {
        response.onNext(
            HeartbeatReply.newBuilder().setCoordinatorId(name).setState(NodeState.ALIVE).build());
        response.onCompleted();
      } else {
        ((ServerCallStreamObserver<HeartbeatReply>) response)
            .setOnCancelHandler(open::decrementAndGet);
        mostOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
      }
    }

    @Override
    public void leave(LeaveRequest request, StreamObserver<LeaveReply> response) {
      leaves.add(request);
      if (behaviour == Behaviour.ANSWERS) {
        response.onNext(LeaveReply.newBuilder().setCoordinatorId(name).build());
        response.onCompleted();
      }
    }
  }
}
