package ftlab.coordinator;

import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.Heartbeat;
import ftlab.coordinator.membership.MembershipEvent;
import ftlab.coordinator.membership.NodeIds;
import ftlab.proto.BadRequests;
import ftlab.proto.HeartbeatReply;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.LeaveReply;
import ftlab.proto.LeaveRequest;
import ftlab.proto.MembershipGrpc;
import ftlab.security.AuthorizationInterceptor;
import ftlab.security.DefenseScoreboard;
import ftlab.security.Identity;
import ftlab.security.Refusal;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The node-facing gRPC service: heartbeats and goodbyes go into the {@link Cluster}. */
final class MembershipService extends MembershipGrpc.MembershipImplBase {
  private static final Logger log = LoggerFactory.getLogger("coordinator");

  private final String coordinatorId;
  private final Cluster cluster;

  /**
   * Told the address of every node that beats: a beat proves it is up, so a failed connection to it
   * is worth retrying now rather than after gRPC's reconnect backoff (up to 2 minutes).
   */
  private final Consumer<String> heardFrom;

  /** Where a heartbeat that speaks for another node's id is reported (TLS on). */
  private final DefenseScoreboard defenses;

  /** Heartbeats per node id per connection. */
  private final RateGuard rates;

  /** Nodes already warned about a mismatched heartbeat interval: warn once, not every beat. */
  private final Set<String> warnedInterval = ConcurrentHashMap.newKeySet();

  MembershipService(
      String coordinatorId,
      Cluster cluster,
      Consumer<String> heardFrom,
      DefenseScoreboard defenses,
      RateGuard rates) {
    this.coordinatorId = coordinatorId;
    this.defenses = defenses;
    this.rates = rates;
    this.cluster = cluster;
    this.heardFrom = heardFrom;
  }

  /**
   * The detector's thresholds are counted in this coordinator's idea of the interval. A node that
   * beats slower would be suspected while healthy; one that beats faster would be detected late.
   */
  private void checkInterval(HeartbeatRequest request) {
    long mine = cluster.config().heartbeatInterval().toMillis();
    int theirs = request.getIntervalMs();
    if (theirs > 0 && theirs != mine && warnedInterval.add(request.getNodeId())) {
      log.warn(
          "{} beats every {} ms but this coordinator expects every {} ms: its SUSPECT/DEAD"
              + " thresholds will be wrong for it; set --heartbeat-interval-ms the same on both",
          request.getNodeId(),
          theirs,
          mine);
    }
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
              request.getLoad().getCapacity(),
              request.getFaults());
    } catch (IllegalArgumentException e) {
      response.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asException());
      return;
    }
    if (request.getIntervalMs() < 0) {
      response.onError(
          Status.INVALID_ARGUMENT
              .withDescription(
                  "heartbeat interval must not be negative (0: not said), got "
                      + request.getIntervalMs()
                      + " ms from "
                      + hb.nodeId())
              .asException());
      return;
    }
    if (!speaksFor(hb.nodeId(), "heartbeat", response)) {
      return;
    }
    Optional<Status> overLimit = rates.heartbeat(hb.nodeId());
    if (overLimit.isPresent()) {
      response.onError(overLimit.get().asException());
      return;
    }
    Cluster.Beat beat = cluster.heartbeat(hb);
    if (beat.refusal() != null) {
      response.onError(refusalStatus(beat.refusal()).asException());
      return;
    }
    checkInterval(request);
    heardFrom.accept(hb.address());
    response.onNext(
        HeartbeatReply.newBuilder()
            .setCoordinatorId(coordinatorId)
            .setState(ProtoStates.toProto(beat.state()))
            // how a revocation reaches the nodes: they refuse these names too
            .addAllRevoked(defenses.revocations().names())
            .build());
    response.onCompleted();
  }

  /**
   * With TLS on, a node's certificate speaks for its own node id only: a heartbeat or goodbye for
   * another id is refused with PERMISSION_DENIED and reported (the role was checked before, by the
   * authorization table). In plaintext there is nothing to check it against.
   */
  private boolean speaksFor(String nodeId, String what, StreamObserver<?> response) {
    Optional<Identity> caller = AuthorizationInterceptor.caller();
    if (caller.isEmpty() && defenses.tls()) {
      // TLS on but no identity known: the authorization interceptor is missing; fail closed
      response.onError(
          Status.PERMISSION_DENIED
              .withDescription(coordinatorId + " refused the " + what + ": no caller identity")
              .asException());
      return false;
    }
    if (caller.isEmpty() || caller.get().name().equals(nodeId)) {
      return true;
    }
    String reason =
        "the certificate of "
            + caller.get()
            + " speaks for "
            + caller.get().name()
            + " only, not for "
            + BadRequests.quote(nodeId);
    defenses.record(
        new Refusal(
            Refusal.Layer.IDENTITY,
            AuthorizationInterceptor.callerAddress(),
            caller,
            what + " as " + BadRequests.quote(nodeId),
            reason));
    response.onError(
        Status.PERMISSION_DENIED
            .withDescription(coordinatorId + " refused the " + what + ": " + reason)
            .asException());
    return false;
  }

  /** The status a refused heartbeat gets: its code says which kind, its description why. */
  private Status refusalStatus(MembershipEvent.Refused r) {
    Status code =
        switch (r.kind()) {
          case FUTURE_INCARNATION, SEQUENCE_JUMP -> Status.FAILED_PRECONDITION;
          case ID_TAKEN -> Status.ALREADY_EXISTS;
          case TABLE_FULL -> Status.RESOURCE_EXHAUSTED;
        };
    return code.withDescription(
        coordinatorId + " refused the heartbeat of " + r.nodeId() + ": " + r.reason());
  }

  /** A node was forgotten: a node with its id later is warned about its interval again. */
  void forget(String nodeId) {
    warnedInterval.remove(nodeId);
  }

  @Override
  public void leave(LeaveRequest request, StreamObserver<LeaveReply> response) {
    Optional<String> bad = NodeIds.problem(request.getNodeId());
    if (bad.isPresent()) {
      response.onError(
          Status.INVALID_ARGUMENT.withDescription("goodbye with " + bad.get()).asException());
      return;
    }
    if (!speaksFor(request.getNodeId(), "goodbye", response)) {
      return;
    }
    cluster.leave(request.getNodeId(), request.getIncarnation(), request.getReason());
    response.onNext(LeaveReply.newBuilder().setCoordinatorId(coordinatorId).build());
    response.onCompleted();
  }
}
