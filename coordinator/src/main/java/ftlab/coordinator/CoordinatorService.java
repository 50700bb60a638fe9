package ftlab.coordinator;

import ftlab.coordinator.dispatch.Dispatcher;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.NodeSnapshot;
import ftlab.proto.Answer;
import ftlab.proto.ClusterView;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.DetectorSettings;
import ftlab.proto.GetClusterRequest;
import ftlab.proto.Load;
import ftlab.proto.NodeView;
import ftlab.proto.SecurityView;
import ftlab.proto.SubmitRequest;
import ftlab.security.DefenseScoreboard;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The client-facing gRPC service: Submit and GetCluster. */
final class CoordinatorService extends CoordinatorGrpc.CoordinatorImplBase {
  private final String coordinatorId;
  private final Cluster cluster;
  private final Dispatcher dispatcher;
  private final DefenseScoreboard defenses;
  private final RateGuard rates;

  CoordinatorService(
      String coordinatorId,
      Cluster cluster,
      Dispatcher dispatcher,
      DefenseScoreboard defenses,
      RateGuard rates) {
    this.coordinatorId = coordinatorId;
    this.defenses = defenses;
    this.cluster = cluster;
    this.dispatcher = dispatcher;
    this.rates = rates;
  }

  @Override
  public void submit(SubmitRequest request, StreamObserver<Answer> response) {
    Optional<Status> overLimit = rates.request();
    if (overLimit.isPresent()) {
      response.onError(overLimit.get().asException());
      return;
    }
    dispatcher.dispatch(request, response);
  }

  @Override
  public void getCluster(GetClusterRequest request, StreamObserver<ClusterView> response) {
    response.onNext(view());
    response.onCompleted();
  }

  ClusterView view() {
    ClusterView.Builder view =
        ClusterView.newBuilder()
            .setCoordinatorId(coordinatorId)
            .setDetector(
                DetectorSettings.newBuilder()
                    .setSuspectAfterMs(
                        TimeUnit.NANOSECONDS.toMillis(cluster.config().suspectAfterNanos()))
                    .setDeadAfterMs(
                        TimeUnit.NANOSECONDS.toMillis(cluster.config().deadAfterNanos())))
            .setRedundancy(dispatcher.redundancy().toProto())
            .setHedgeDelayMicros(dispatcher.hedging().baseDelayNanos() / 1_000)
            .setHedgeBudget(dispatcher.hedging().budget())
            .setHeartbeatsRefused(cluster.heartbeatsRefused())
            .setIdConflicts(cluster.idConflicts());
    cluster
        .latestGuardEvent()
        .ifPresent(
            e ->
                view.setLastGuardEvent(e.describe())
                    .setLastGuardEventAgeMs(TimeUnit.NANOSECONDS.toMillis(e.ageNanos())));
    SecurityView.Builder security =
        SecurityView.newBuilder()
            .setTls(defenses.tls())
            .setMode(defenses.mode())
            .setHandshakes(defenses.handshakes());
    defenses.counts().forEach((layer, count) -> security.putRefused(layer.word(), count));
    security.addAllRevoked(defenses.revocations().names());
    defenses
        .latest()
        .ifPresent(
            r ->
                security
                    .setLastRefusal(r.refusal().sentence())
                    .setLastRefusalAgeMs(TimeUnit.NANOSECONDS.toMillis(defenses.ageNanos(r))));
    view.setSecurity(security);
    for (NodeSnapshot n : cluster.nodes()) {
      view.addNodes(
          NodeView.newBuilder()
              .setNodeId(n.nodeId())
              .setAddress(n.address())
              .setState(ProtoStates.toProto(n.state()))
              .setIncarnation(n.incarnation())
              .setLastHeartbeatAgeMs(TimeUnit.NANOSECONDS.toMillis(n.silenceNanos()))
              .setLoad(Load.newBuilder().setInFlight(n.inFlight()).setCapacity(n.capacity()))
              .setCoordinatorInFlight(cluster.inFlight(n.nodeId()))
              .setLastTransitionReason(n.reason())
              .setSinceTransitionMs(TimeUnit.NANOSECONDS.toMillis(n.sinceTransitionNanos()))
              .setAnswers(cluster.answers(n.nodeId()))
              .setFailedAttempts(cluster.failedAttempts(n.nodeId()))
              .setTimesSuspected(cluster.timesSuspected(n.nodeId()))
              .setFaults(n.faults())
              .setOutvoted(n.outvoted())
              .setRecentVotes(n.recentVotes())
              .setRecentExtraMs(dispatcher.recentExtraNanos(n.nodeId()) / 1e6));
    }
    return view.build();
  }
}
