package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.client.Coordinators;
import ftlab.proto.ClusterView;
import ftlab.proto.ComputeRequest;
import ftlab.proto.CoordinatorAdminGrpc;
import ftlab.proto.Faults;
import ftlab.proto.LeaveRequest;
import ftlab.proto.MembershipGrpc;
import ftlab.proto.NodeAdminGrpc;
import ftlab.proto.NodeView;
import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyMode;
import ftlab.proto.SetFaultsRequest;
import ftlab.proto.SetRedundancyRequest;
import ftlab.proto.WorkerGrpc;
import ftlab.security.Identity;
import ftlab.security.Revocations;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A cluster with mutual TLS on every link ({@code ftlab local up --tls}) under a checked load, and
 * issue 10's attacks against it from outside, each refused where it should be: at the TLS handshake
 * (no certificate, or one from another authority), by the authorization table (a client
 * heartbeating, a client switching the mode or injecting a fault, a client asking a node to
 * compute), by the identity check (node-3's certificate speaking for node-1), and by revocation
 * (ftlab revoke node-3, then --undo). The load sees none of it; the coordinators count and show
 * what they refused; the admin's CLI still works.
 */
class MutualTlsIT {
  private final List<ManagedChannel> channels = new ArrayList<>();

  @AfterEach
  void closeChannels() {
    channels.forEach(ManagedChannel::shutdownNow);
  }

  private ManagedChannel channel(String address, ChannelCredentials credentials) {
    ManagedChannel c = Grpc.newChannelBuilder(address, credentials).build();
    channels.add(c);
    return c;
  }

  private static void refused(
      Runnable call, Status.Code code, Consumer<StatusRuntimeException> more) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(code);
              more.accept(e);
            });
  }

  /** What a node says to a NodeAdmin call on this channel (all callers here are refused). */
  private static String nodeAdminRefusal(ManagedChannel toNode) {
    try {
      NodeAdminGrpc.newBlockingStub(toNode)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .getFaults(ftlab.proto.GetFaultsRequest.getDefaultInstance());
      return "answered";
    } catch (io.grpc.StatusRuntimeException e) {
      return e.getStatus().getCode() + ": " + e.getStatus().getDescription();
    }
  }

  private static NodeView node(ClusterView view, String id) {
    return view.getNodesList().stream()
        .filter(n -> n.getNodeId().equals(id))
        .findFirst()
        .orElseThrow(() -> new AssertionError(id + " not in " + view.getCoordinatorId()));
  }

  @Test
  void everyAttackIsRefusedAndCountedWhileTheLoadGoesOn() throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3, true)) {
      ClusterProbe p = c.probe;
      Path certs = c.cluster.tlsFolder();
      String coordinator1 = c.cluster.member("coordinator-1").address();
      String node1 = c.cluster.member("node-1").address();
      String node3 = c.cluster.member("node-3").address();
      p.startLoad();
      p.awaitMoreAnswers(40);
      ClusterView before = p.coordinators().view(0, 2_000);
      assertThat(before.getSecurity().getTls()).isTrue();
      assertThat(before.getSecurity().getMode())
          .isEqualTo(
              "mutual TLS as coordinator coordinator-1"
                  + " (spiffe://ftlab/coordinator/coordinator-1)");
      assertThat(before.getSecurity().getRefusedMap()).isEmpty();

      // 1. no certificate: a plaintext caller does not get past the handshake, and is told why
      ManagedChannel plaintext = channel(coordinator1, InsecureChannelCredentials.create());
      refused(
          () ->
              MembershipGrpc.newBlockingStub(plaintext)
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .heartbeat(HostileHeartbeatsIT.heartbeat("rogue-1", "127.0.0.1:1", 1, 1).build()),
          Status.Code.UNAVAILABLE,
          e ->
              assertThat(Coordinators.explain(e))
                  .contains(
                      "if the other side runs with --tls-dir (mutual TLS), this side needs it"));
      plaintext.shutdownNow(); // or it would dial again and again, each time refused and counted
      // ... and the coordinator records it, with the caller's address, though it showed nothing
      String plaintextRefused =
          org.awaitility.Awaitility.await()
              .atMost(Duration.ofSeconds(10))
              .until(
                  () -> p.coordinators().view(0, 2_000).getSecurity().getLastRefusal(),
                  r -> r.startsWith("handshake refused"));
      assertThat(plaintextRefused)
          .matches(
              "handshake refused a caller without an ftlab identity at 127\\.0\\.0\\.1:[0-9]+: it"
                  + " spoke plaintext, not TLS \\(started without a certificate folder\\?\\)");

      // 2. a certificate from an authority of its own, naming node-9: refused at the handshake
      ManagedChannel rogue;
      try (ForeignAuthority rogueCerts = new ForeignAuthority(new Identity(Role.NODE, "node-9"))) {
        rogue = channel(coordinator1, rogueCerts.credentials());
      }
      refused(
          () ->
              MembershipGrpc.newBlockingStub(rogue)
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .heartbeat(HostileHeartbeatsIT.heartbeat("node-9", node1, 1, 1).build()),
          // (what the rogue reads depends on when the alert reaches it; the coordinator's count
          // below is what is checked)
          Status.Code.UNAVAILABLE,
          e -> {});

      rogue.shutdownNow(); // or it would try again and again, each time refused and counted

      // 3. a valid client certificate trying to heartbeat as a node
      ChannelCredentials client = TlsFiles.read(certs, "client").channel(Role.COORDINATOR);
      refused(
          () ->
              MembershipGrpc.newBlockingStub(channel(coordinator1, client))
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .heartbeat(HostileHeartbeatsIT.heartbeat("client", node1, 1, 1).build()),
          Status.Code.PERMISSION_DENIED,
          e ->
              assertThat(e.getStatus().getDescription())
                  .isEqualTo(
                      "coordinator-1 refused: ftlab.v1.Membership/Heartbeat is for a node only,"
                          + " and the caller's certificate names client client"));

      // 4. node-3's valid certificate speaking for node-1 (a newer incarnation, its own address):
      // refused, and node-1 stays as it was
      ChannelCredentials node3cert = TlsFiles.read(certs, "node-3").channel(Role.COORDINATOR);
      MembershipGrpc.MembershipBlockingStub impostor =
          MembershipGrpc.newBlockingStub(channel(coordinator1, node3cert))
              .withDeadlineAfter(5, TimeUnit.SECONDS);
      NodeView real = node(before, "node-1");
      refused(
          () ->
              impostor.heartbeat(
                  HostileHeartbeatsIT.heartbeat("node-1", node3, real.getIncarnation() + 1, 1)
                      .build()),
          Status.Code.PERMISSION_DENIED,
          e ->
              assertThat(e.getStatus().getDescription())
                  .isEqualTo(
                      "coordinator-1 refused the heartbeat: the certificate of node node-3"
                          + " speaks for node-3 only, not for 'node-1'"));
      refused(
          () ->
              impostor.leave(
                  LeaveRequest.newBuilder()
                      .setNodeId("node-1")
                      .setIncarnation(real.getIncarnation())
                      .build()),
          Status.Code.PERMISSION_DENIED,
          e -> assertThat(e.getStatus().getDescription()).contains("refused the goodbye"));

      // 5. a client certificate calling what only an admin or a coordinator may
      refused(
          () ->
              CoordinatorAdminGrpc.newBlockingStub(channel(coordinator1, client))
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .setRedundancy(
                      SetRedundancyRequest.newBuilder()
                          .setRedundancy(
                              Redundancy.newBuilder().setMode(RedundancyMode.VOTE).setReplicas(3))
                          .build()),
          Status.Code.PERMISSION_DENIED,
          e ->
              assertThat(e.getStatus().getDescription())
                  .contains("SetRedundancy is for an admin only"));
      ChannelCredentials clientToNode = TlsFiles.read(certs, "client").channel(Role.NODE);
      refused(
          () ->
              NodeAdminGrpc.newBlockingStub(channel(node1, clientToNode))
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .setFaults(
                      SetFaultsRequest.newBuilder()
                          .setFaults(Faults.newBuilder().setFreeze(true))
                          .build()),
          Status.Code.PERMISSION_DENIED,
          e ->
              assertThat(e.getStatus().getDescription())
                  .isEqualTo(
                      "node-1 refused: ftlab.v1.NodeAdmin/SetFaults is for an admin only, and the"
                          + " caller's certificate names client client"));
      refused(
          () ->
              WorkerGrpc.newBlockingStub(channel(node1, clientToNode))
                  .withDeadlineAfter(5, TimeUnit.SECONDS)
                  .compute(ComputeRequest.newBuilder().setRequestId("direct").build()),
          Status.Code.PERMISSION_DENIED,
          e ->
              assertThat(e.getStatus().getDescription())
                  .contains("ftlab.v1.Worker/Compute is for a coordinator only"));

      // nothing the attacks tried took effect, and the load never noticed
      p.awaitMoreAnswers(40);
      ClusterView after = p.coordinators().view(0, 2_000);
      assertThat(node(after, "node-1").getIncarnation()).isEqualTo(real.getIncarnation());
      assertThat(node(after, "node-1").getAddress()).isEqualTo(real.getAddress());
      assertThat(after.getNodesList())
          .extracting(NodeView::getNodeId)
          .containsExactlyInAnyOrder("node-1", "node-2", "node-3");
      assertThat(after.getRedundancy().getMode()).isEqualTo(RedundancyMode.FAILOVER);
      assertThat(node(after, "node-1").getFaults()).isEqualTo(Faults.getDefaultInstance());
      // counted where they were caught: the plaintext caller and the certificate from another
      // authority by the handshake, 2 by
      // coordinator-1's table (a client heartbeating, a client switching modes), 2 by its identity
      // check (node-3's heartbeat and goodbye for node-1); node-1 counts its own 2
      // (the rogue's channel may try its handshake more than once for one call: at least one)
      assertThat(after.getSecurity().getRefusedMap().getOrDefault("handshake", 0L))
          .isGreaterThanOrEqualTo(2);
      assertThat(after.getSecurity().getRefusedMap())
          .containsEntry("authorization", 2L)
          .containsEntry("identity", 2L);
      assertThat(after.getSecurity().getLastRefusal())
          .startsWith("authorization refused client client at 127.0.0.1:")
          .endsWith(
              "SetRedundancy is for an admin only, and the caller's certificate names client client");
      double nodeRefused =
          Scrape.of(c.cluster.member("node-1").metricsUrl())
              .sum("ftlab_security_refused_total", "layer", "authorization");
      assertThat(nodeRefused).isEqualTo(2);
      assertThat(
              Scrape.of(c.cluster.member("coordinator-1").metricsUrl())
                  .sum("ftlab_security_refused_total", "layer", "identity"))
          .isEqualTo(2);
      // connections are kept: a handshake per link, not per call (100 more answers through
      // coordinator-1 alone outnumber every link this test opened)
      p.awaitMoreAnswersVia("coordinator-1", 100);
      double handshakes =
          Scrape.of(c.cluster.member("coordinator-1").metricsUrl())
              .sum("ftlab_tls_handshakes_total");
      assertThat(after.getSecurity().getHandshakes()).isPositive();
      assertThat(handshakes).isPositive().isLessThan(p.answersVia("coordinator-1"));

      // the dashboard's HTTP port has no login: with TLS on it changes nothing
      java.net.http.HttpResponse<String> post =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create(
                              "http://127.0.0.1:"
                                  + c.cluster.member("coordinator-1").httpPort()
                                  + "/api/mode?mode=vote"))
                      .header("X-Ftlab", "1")
                      .POST(java.net.http.HttpRequest.BodyPublishers.noBody())
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(403);
      assertThat(post.body()).contains("the dashboard is read-only with mutual TLS on");
      assertThat(p.coordinators().view(0, 2_000).getRedundancy().getMode())
          .isEqualTo(RedundancyMode.FAILOVER);

      // the admin's CLI finds the local cluster's certificates by itself, and may switch modes
      FtlabCli.Run mode = FtlabCli.run(c.cluster.stateDir(), "mode", "hedged");
      assertThat(mode.exit()).as(mode.err()).isZero();
      assertThat(mode.out()).contains("coordinator-1 at", "now hedged");
      // the same as a client: refused, and said so
      FtlabCli.Run asClient = FtlabCli.run(c.cluster.stateDir(), "mode", "vote", "--as", "client");
      assertThat(asClient.exit()).isEqualTo(1);
      assertThat(asClient.out())
          .contains(
              "PERMISSION_DENIED: coordinator-1 refused: ftlab.v1.CoordinatorAdmin/SetRedundancy is for an admin only");
      FtlabCli.Run status = FtlabCli.run(c.cluster.stateDir(), "status");
      assertThat(status.exit()).as(status.err()).isZero();
      assertThat(status.out())
          .containsPattern(
              "security: mutual TLS as coordinator coordinator-1"
                  + " \\(spiffe://ftlab/coordinator/coordinator-1\\); [0-9]+ handshakes; refused: 3"
                  + " by authorization,"
                  + " [0-9]+ by handshake, 2 by identity; latest, ");

      // 6. revocation: node-3 out of dispatch at once at every coordinator, its calls refused from
      // then on, recorded for coordinators started later; and taken back
      // a client may not revoke, and what no coordinator took is not recorded either
      FtlabCli.Run notAdmin =
          FtlabCli.run(c.cluster.stateDir(), "revoke", "node-2", "--as", "client");
      assertThat(notAdmin.exit()).isEqualTo(1);
      assertThat(notAdmin.out())
          .contains("CoordinatorAdmin/Revoke is for an admin only")
          .contains("no coordinator confirmed: revoked not changed");
      assertThat(certs.resolve("revoked")).doesNotExist();
      // the admin revokes from a folder of its own (ftlab certs --split): its revoked file is its
      // own, so the one in the coordinators' folder is theirs, kept for their next start
      FtlabCli.Run split =
          FtlabCli.run(
              c.cluster.stateDir(),
              "certs",
              "--dir",
              certs.toString(),
              "--split",
              "--only",
              "--admin",
              "admin");
      assertThat(split.exit()).as(split.out() + split.err()).isZero();
      Path adminFolder = certs.resolve("cli");
      assertThat(adminFolder.resolve("ca.key")).doesNotExist();
      FtlabCli.Run revoke =
          FtlabCli.run(
              c.cluster.stateDir(), "revoke", "node-3", "--tls-dir", adminFolder.toString());
      assertThat(revoke.exit()).as(revoke.out() + revoke.err()).isZero();
      assertThat(revoke.out())
          .containsPattern(
              "coordinator-1 at [0-9.:]+: node-3 revoked; the node is LEFT here; kept in its .*"
                  + Pattern.quote(certs.resolve("revoked").toString()))
          .containsPattern(
              "coordinator-2 at [0-9.:]+: node-3 revoked; the node is LEFT here; kept in its .*"
                  + Pattern.quote(certs.resolve("revoked").toString()))
          .contains("written into " + adminFolder.resolve("revoked"));
      assertThat(Revocations.readNames(certs.resolve("revoked"))).contains("node-3");
      assertThat(Revocations.readNames(adminFolder.resolve("revoked"))).contains("node-3");
      long revokedAt = System.nanoTime();
      p.awaitState("node-3", ftlab.proto.NodeState.LEFT, Duration.ofSeconds(5));
      org.awaitility.Awaitility.await("node-3's heartbeats refused as revoked")
          .atMost(Duration.ofSeconds(5))
          .until(
              () ->
                  p.coordinators()
                          .view(0, 2_000)
                          .getSecurity()
                          .getRefusedMap()
                          .getOrDefault("revocation", 0L)
                      > 0);
      ClusterView revoked = p.coordinators().view(0, 2_000);
      assertThat(revoked.getSecurity().getRevokedList()).containsExactly("node-3");
      assertThat(node(revoked, "node-3").getLastTransitionReason())
          .isEqualTo("revoked by admin admin: its certificate is refused from now on");
      // no new work for node-3: once the attempts it had are over, its answer counts stand still
      long[] answered = new long[2];
      for (int i = 0; i < 2; i++) {
        int coordinator = i;
        org.awaitility.Awaitility.await("node-3's last attempts over at coordinator-" + (i + 1))
            .atMost(Duration.ofSeconds(5))
            .until(
                () ->
                    node(p.coordinators().view(coordinator, 2_000), "node-3")
                            .getCoordinatorInFlight()
                        == 0);
        answered[i] = node(p.coordinators().view(i, 2_000), "node-3").getAnswers();
      }
      p.awaitMoreAnswers(40);
      for (int i = 0; i < 2; i++) {
        assertThat(node(p.coordinators().view(i, 2_000), "node-3").getAnswers())
            .as("node-3's answers at coordinator-%d after its revocation", i + 1)
            .isEqualTo(answered[i]);
      }
      assertThat(p.statesSeen("node-3", revokedAt)).doesNotContain(ftlab.proto.NodeState.ALIVE);
      // the nodes heard of it in the coordinators' heartbeat replies: node-1, which read its
      // folder before node-3 was revoked, refuses node-3's certificate by revocation now
      ManagedChannel node3ToNode1 =
          channel(node1, TlsFiles.read(certs, "node-3").channel(Role.NODE));
      String node1Says =
          org.awaitility.Awaitility.await("node-1 refusing node-3 as revoked")
              .atMost(Duration.ofSeconds(5))
              .until(() -> nodeAdminRefusal(node3ToNode1), d -> d.contains("was revoked by"));
      assertThat(node1Says)
          .containsPattern("the certificate of node node-3 was revoked by coordinator-[12]");

      FtlabCli.Run undo =
          FtlabCli.run(
              c.cluster.stateDir(),
              "revoke",
              "--undo",
              "node-3",
              "--tls-dir",
              adminFolder.toString());
      assertThat(undo.exit()).as(undo.out() + undo.err()).isZero();
      assertThat(undo.out()).contains("node-3 is no longer revoked");
      // (the nodes of this local cluster share the coordinators' folder and write what they hear
      // into it too: a node that heard coordinator-2 still revoke it a moment ago writes it once
      // more, and takes it out at the next reply)
      org.awaitility.Awaitility.await("node-3 out of the shared folder's revoked file")
          .atMost(Duration.ofSeconds(5))
          .until(() -> !Revocations.readNames(certs.resolve("revoked")).contains("node-3"));
      assertThat(Revocations.readNames(adminFolder.resolve("revoked"))).doesNotContain("node-3");
      p.awaitState("node-3", ftlab.proto.NodeState.ALIVE, Duration.ofSeconds(5));
      p.awaitMoreAnswersFrom("node-3", 5);
      // and node-1 heard of the undo: node-3's certificate is back to what its role may do
      org.awaitility.Awaitility.await("node-1 no longer refusing node-3 as revoked")
          .atMost(Duration.ofSeconds(5))
          .until(() -> nodeAdminRefusal(node3ToNode1), d -> d.contains("is for an admin only"));
      node3ToNode1.shutdownNow();
      p.stopLoadAndAssertNoClientVisibleFailure();
    }
  }
}
