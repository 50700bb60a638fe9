package ftlab.coordinator;

import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.Heartbeat;
import ftlab.coordinator.membership.NodeState;
import ftlab.proto.HeartbeatReply;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.LeaveReply;
import ftlab.proto.LeaveRequest;
import ftlab.proto.MembershipGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** The node-facing gRPC service: heartbeats and goodbyes go into the {@link Cluster}. */
final class MembershipService extends MembershipGrpc.MembershipImplBase {
  private final String coordinatorId;
  private final Cluster cluster;

  MembershipService(String coordinatorId, Cluster cluster) {
    this.coordinatorId = coordinatorId;
    this.cluster = cluster;
  }

  @Override
  public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatReply> response) {
    Heartbeat hb;
    try {
      hb =
          new Heartbeat(
              request.getNodeId(),
              request.getAddress(),
              request.getIncarnation(),
              request.getSequence(),
              request.getLoad().getInFlight(),
              request.getLoad().getCapacity());
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException());
      return;
    }
    NodeState state = cluster.heartbeat(hb);
    response.onNext(
        HeartbeatReply.newBuilder()
            .setCoordinatorId(coordinatorId)
            .setState(ProtoStates.toProto(state))
            .build());
    response.onCompleted();
  }

  @Override
  public void leave(LeaveRequest request, StreamObserver<LeaveReply> response) {
    cluster.leave(request.getNodeId(), request.getIncarnation(), request.getReason());
    response.onNext(LeaveReply.newBuilder().setCoordinatorId(coordinatorId).build());
    response.onCompleted();
  }
}
