package ftlab.coordinator;

import ftlab.coordinator.dispatch.Dispatcher;
import ftlab.coordinator.dispatch.Redundancy;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.NodeIds;
import ftlab.coordinator.membership.NodeState;
import ftlab.proto.CoordinatorAdminGrpc;
import ftlab.proto.ReadmitReply;
import ftlab.proto.ReadmitRequest;
import ftlab.proto.RedundancyReply;
import ftlab.proto.SetRedundancyRequest;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Operator commands on a running coordinator: switch the redundancy mode, readmit a quarantined
 * node. Who may call it is decided in one place, {@link AdminAccess}, in front of this service.
 */
final class CoordinatorAdminService extends CoordinatorAdminGrpc.CoordinatorAdminImplBase {
  private static final Logger log = LoggerFactory.getLogger("coordinator");

  private final String coordinatorId;
  private final Dispatcher dispatcher;
  private final Cluster cluster;

  CoordinatorAdminService(String coordinatorId, Dispatcher dispatcher, Cluster cluster) {
    this.coordinatorId = coordinatorId;
    this.dispatcher = dispatcher;
    this.cluster = cluster;
  }

  @Override
  public void setRedundancy(
      SetRedundancyRequest request, StreamObserver<RedundancyReply> response) {
    Redundancy next;
    try {
      next = Redundancy.fromProto(request.getRedundancy(), dispatcher.redundancy().replicas());
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException());
      return;
    }
    Redundancy before = dispatcher.redundancy();
    dispatcher.setRedundancy(next);
    log.info("redundancy mode: {} (was {})", next.describe(), before.describe());
    response.onNext(
        RedundancyReply.newBuilder()
            .setCoordinatorId(coordinatorId)
            .setRedundancy(next.toProto())
            .build());
    response.onCompleted();
  }

  @Override
  public void readmit(ReadmitRequest request, StreamObserver<ReadmitReply> response) {
    Optional<String> bad = NodeIds.problem(request.getNodeId());
    if (bad.isPresent()) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(bad.get()).asException());
      return;
    }
    NodeState after;
    try {
      after = cluster.readmit(request.getNodeId());
    } catch (IllegalArgumentException e) {
      response.onError(Status.NOT_FOUND.withDescription(e.getMessage()).asException());
      return;
    } catch (IllegalStateException e) {
      response.onError(Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asException());
      return;
    }
    response.onNext(
        ReadmitReply.newBuilder()
            .setCoordinatorId(coordinatorId)
            .setNodeId(request.getNodeId())
            .setState(ProtoStates.toProto(after))
            .build());
    response.onCompleted();
  }
}
