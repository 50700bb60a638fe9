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
import ftlab.proto.RevokeReply;
import ftlab.proto.RevokeRequest;
import ftlab.proto.SetRedundancyRequest;
import ftlab.security.AuthorizationInterceptor;
import ftlab.security.DefenseScoreboard;
import ftlab.security.Identity;
import ftlab.security.Revocations;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
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
  private final DefenseScoreboard defenses;
  private final Object revocationChanges = new Object();

  CoordinatorAdminService(
      String coordinatorId, Dispatcher dispatcher, Cluster cluster, DefenseScoreboard defenses) {
    this.coordinatorId = coordinatorId;
    this.dispatcher = dispatcher;
    this.cluster = cluster;
    this.defenses = defenses;
  }

  @Override
  public void revoke(RevokeRequest request, StreamObserver<RevokeReply> response) {
    Optional<String> bad = NodeIds.problem(request.getName());
    if (bad.isPresent()) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(bad.get()).asException());
      return;
    }
    if (!defenses.tls()) {
      response.onError(
          Status.FAILED_PRECONDITION
              .withDescription(
                  coordinatorId
                      + " runs plaintext: there is no certificate to revoke (start the"
                      + " coordinators and nodes with --tls-dir)")
              .asException());
      return;
    }
    String name = request.getName();
    Optional<Identity> caller = AuthorizationInterceptor.caller();
    if (!request.getUndo() && caller.isPresent() && caller.get().name().equals(name)) {
      response.onError(
          Status.FAILED_PRECONDITION
              .withDescription(
                  "the certificate of "
                      + caller.get()
                      + " cannot revoke itself: use another"
                      + " admin's certificate (--as NAME)")
              .asException());
      return;
    }
    String by = caller.map(Identity::toString).orElse("an operator");
    Revocations revocations = defenses.revocations();
    boolean changed;
    Optional<NodeState> node;
    Optional<Path> keptIn = Optional.empty();
    // one change at a time, memory and file together: a revoke and an undo of one name at once
    // must not leave the file saying the opposite of what this coordinator does
    synchronized (revocationChanges) {
      changed =
          request.getUndo()
              ? revocations.undo(name)
              : revocations.revoke(name, by, System.currentTimeMillis());
      node =
          request.getUndo()
              ? cluster.unrevoke(name)
              : cluster.revoke(
                  name, "revoked by " + by + ": its certificate is refused from now on");
      // kept in this coordinator's own folder, so that it still holds after a restart
      Optional<Path> folder = revocations.folder();
      if (folder.isPresent()) {
        try {
          Revocations.write(folder.get(), name, request.getUndo());
          keptIn = Optional.of(folder.get().resolve(Revocations.FILE));
        } catch (IOException | RuntimeException e) {
          log.warn(
              "could not {} {} in {}: {}; after a restart this coordinator {} it",
              request.getUndo() ? "strike" : "keep",
              name,
              folder.get().resolve(Revocations.FILE),
              e.getMessage(),
              request.getUndo() ? "refuses" : "accepts");
        }
      }
    }
    log.warn(
        "{} {} by {}{}",
        name,
        request.getUndo()
            ? (changed ? "is no longer revoked" : "was not revoked")
            : (changed ? "revoked" : "was revoked already"),
        by,
        node.map(state -> "; as a node here it is " + state).orElse(""));
    RevokeReply.Builder reply =
        RevokeReply.newBuilder()
            .setCoordinatorId(coordinatorId)
            .setName(name)
            .setRevoked(!request.getUndo())
            .setChanged(changed)
            .setKnownNode(node.isPresent())
            .setKeptIn(keptIn.map(Path::toString).orElse(""));
    node.ifPresent(state -> reply.setNodeState(ProtoStates.toProto(state)));
    response.onNext(reply.build());
    response.onCompleted();
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
