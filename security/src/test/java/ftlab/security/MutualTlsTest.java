package ftlab.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real TLS on 127.0.0.1 with certificates made by {@link LabCertificates}: who gets through the
 * handshake, what identity the server sees, and the sentences for bad material.
 */
class MutualTlsTest {

  @TempDir Path dir;
  @TempDir Path otherDir;

  private final List<Refusal> refusals = new CopyOnWriteArrayList<>();
  private final List<Identity> seen = new CopyOnWriteArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();
  private Server server;
  private int port;

  @BeforeEach
  void startCoordinatorLikeServer() throws IOException {
    LabCertificates ca = LabCertificates.openOrCreate(dir, Duration.ofDays(1));
    for (Identity identity :
        List.of(
            new Identity(Role.COORDINATOR, "coordinator-1"),
            new Identity(Role.NODE, "node-1"),
            new Identity(Role.CLIENT, "client"),
            new Identity(Role.ADMIN, "admin"))) {
      ca.issue(identity, Duration.ofDays(1));
    }
    TlsFiles coordinator = TlsFiles.read(dir, "coordinator-1", Role.COORDINATOR);
    DefenseScoreboard defenses = DefenseScoreboard.of(coordinator);
    defenses.listen(r -> refusals.add(r.refusal()));
    HealthStatusManager health = new HealthStatusManager();
    server =
        Grpc.newServerBuilderForPort(0, coordinator.server(defenses::record))
            .addService(health.getHealthService())
            .intercept(new AuthorizationInterceptor("coordinator-1", defenses))
            .intercept(
                new io.grpc.ServerInterceptor() {
                  @Override
                  public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(
                      io.grpc.ServerCall<Q, A> call,
                      io.grpc.Metadata headers,
                      io.grpc.ServerCallHandler<Q, A> next) {
                    // (runs before the authorization interceptor: the last added runs first)
                    Identity.ofPeer(call.getAttributes()).ifPresent(seen::add);
                    return next.startCall(call, headers);
                  }
                })
            .build()
            .start();
    port = server.getPort();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channels.forEach(ManagedChannel::shutdownNow);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private HealthCheckResponse.ServingStatus check(ChannelCredentials credentials) {
    ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + port, credentials).build();
    channels.add(channel);
    return HealthGrpc.newBlockingStub(channel)
        .withDeadlineAfter(10, TimeUnit.SECONDS)
        .check(HealthCheckRequest.getDefaultInstance())
        .getStatus();
  }

  @Test
  void aCertificateFromTheLabAuthorityGetsInAndIsKnownByItsIdentity() throws IOException {
    TlsFiles node = TlsFiles.read(dir, "node-1", Role.NODE);
    assertThat(check(node.channel(Role.COORDINATOR)))
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(seen).containsExactly(new Identity(Role.NODE, "node-1"));
    assertThat(refusals).isEmpty();
  }

  @Test
  void aPlaintextCallerDoesNotGetPastTheHandshakeAndIsReportedWithItsAddress() {
    assertThatThrownBy(() -> check(InsecureChannelCredentials.create()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    assertThat(seen).isEmpty();
    Refusal r = firstRefusal();
    assertThat(r.layer()).isEqualTo(Refusal.Layer.HANDSHAKE);
    assertThat(r.peer()).matches("127\\.0\\.0\\.1:\\d+");
    assertThat(r.identity()).isEmpty();
    assertThat(r.reason())
        .isEqualTo("it spoke plaintext, not TLS (started without a certificate folder?)");
  }

  @Test
  void aTlsCallerWithoutACertificateIsReportedWithItsAddress() throws IOException {
    // it trusts the lab's authority, so it would finish its side; it only lacks a certificate
    ChannelCredentials noCertificate =
        io.grpc.TlsChannelCredentials.newBuilder()
            .trustManager(
                io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE
                    .getTrustManagers())
            .build();
    assertThatThrownBy(() -> check(noCertificate)).isInstanceOf(StatusRuntimeException.class);
    assertThat(seen).isEmpty();
    Refusal r = firstRefusal();
    assertThat(r.layer()).isEqualTo(Refusal.Layer.HANDSHAKE);
    assertThat(r.peer()).matches("127\\.0\\.0\\.1:\\d+");
    assertThat(r.identity()).isEmpty();
    assertThat(r.reason()).isEqualTo("it showed no certificate");
  }

  @Test
  void aCallerThatDoesNotTrustThisProcessIsReportedAsEndingTheHandshakeItself() throws Exception {
    LabCertificates.openOrCreate(otherDir, Duration.ofDays(1)); // another lab's authority
    ChannelCredentials otherLab =
        io.grpc.TlsChannelCredentials.newBuilder()
            .trustManager(otherDir.resolve("ca.pem").toFile())
            .build();
    assertThatThrownBy(() -> check(otherLab)).isInstanceOf(StatusRuntimeException.class);
    Refusal r = firstRefusal();
    assertThat(r.peer()).matches("127\\.0\\.0\\.1:\\d+");
    assertThat(r.reason())
        .startsWith("it ended the handshake itself (")
        .endsWith("): it does not trust this process's certificate (another lab's authority?)");
  }

  @Test
  void aConnectionClosedBeforeItsHandshakeIsNotARefusal() throws Exception {
    // a port probe (a health check that only connects, a scanner): opened and closed, no bytes
    try (java.net.Socket probe = new java.net.Socket("127.0.0.1", port)) {
      assertThat(probe.isConnected()).isTrue();
    }
    // then two plaintext callers, each on a connection of its own: once both are reported, every
    // report there is must be theirs (a report of the probe would be a third, with another reason)
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> check(InsecureChannelCredentials.create()))
          .isInstanceOf(StatusRuntimeException.class);
    }
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> refusals.size() >= 2);
    assertThat(refusals)
        .extracting(Refusal::reason)
        .containsOnly("it spoke plaintext, not TLS (started without a certificate folder?)");
  }

  private Refusal firstRefusal() {
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> !refusals.isEmpty());
    return refusals.get(0);
  }

  @Test
  void aCertificateFromAnotherAuthorityIsReportedWithTheIdentityItClaims() throws IOException {
    LabCertificates.openOrCreate(otherDir, Duration.ofDays(1))
        .issue(new Identity(Role.NODE, "node-1"), Duration.ofDays(1));
    // a rogue that trusts any server: the server's side of the handshake is what is tested
    ChannelCredentials rogue =
        io.grpc.TlsChannelCredentials.newBuilder()
            .keyManager(
                otherDir.resolve("node-1.pem").toFile(), otherDir.resolve("node-1.key").toFile())
            .trustManager(
                io.grpc.netty.shaded.io.netty.handler.ssl.util.InsecureTrustManagerFactory.INSTANCE
                    .getTrustManagers())
            .build();
    assertThatThrownBy(() -> check(rogue))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            // (what the client reads depends on when the server's alert reaches it: TLS 1.3
            // clients finish their handshake first; the server's side is what is checked)
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> !refusals.isEmpty());
    assertThat(refusals.get(0).layer()).isEqualTo(Refusal.Layer.HANDSHAKE);
    assertThat(refusals.get(0).peer()).matches("127\\.0\\.0\\.1:\\d+");
    assertThat(refusals.get(0).identity()).contains(new Identity(Role.NODE, "node-1"));
    assertThat(refusals.get(0).reason())
        .startsWith("its certificate (issued by")
        .contains("did not pass: not from this lab's authority");
    assertThat(seen).isEmpty();
  }

  @Test
  void aCallerThatExpectsANodeThereRefusesTheCoordinatorsCertificate() throws IOException {
    TlsFiles admin = TlsFiles.read(dir, "admin", Role.ADMIN);
    assertThatThrownBy(() -> check(admin.channel(Role.NODE)))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
              assertThat(causes(e))
                  .contains(
                      "the server's certificate names coordinator coordinator-1, but a node was"
                          + " expected at this address");
            });
  }

  @Test
  void everyRoleMayReadHealthButTheTableIsAskedForEachCall() throws IOException {
    for (String name : List.of("client", "admin")) {
      Role role = Role.of(name);
      assertThat(check(TlsFiles.read(dir, name, role).channel(Role.COORDINATOR)))
          .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    }
    assertThat(seen)
        .containsExactly(new Identity(Role.CLIENT, "client"), new Identity(Role.ADMIN, "admin"));
  }

  @Test
  void badMaterialIsRefusedWithASentence() throws IOException {
    assertThatThrownBy(() -> TlsFiles.read(dir.resolve("nope"), "node-1", Role.NODE))
        .hasMessageContaining("does not exist: make it with `ftlab certs --dir");
    assertThatThrownBy(() -> TlsFiles.read(dir, "node-9", Role.NODE))
        .hasMessageContaining("has no node-9.pem (no certificate for node node-9)");
    assertThatThrownBy(() -> TlsFiles.read(dir, "node-1", Role.COORDINATOR))
        .hasMessageContaining(
            "node-1.pem is the certificate of node node-1, not of coordinator node-1");
    LabCertificates.openOrCreate(dir, Duration.ofDays(1))
        .issue(new Identity(Role.NODE, "node-old"), Duration.ofMinutes(-1));
    assertThatThrownBy(() -> TlsFiles.read(dir, "node-old", Role.NODE))
        .hasMessageContaining("node-old.pem is not valid now");
    LabCertificates.openOrCreate(otherDir, Duration.ofDays(1))
        .issue(new Identity(Role.NODE, "node-2"), Duration.ofDays(1));
    Files.copy(otherDir.resolve("node-2.pem"), dir.resolve("node-2.pem"));
    Files.copy(otherDir.resolve("node-2.key"), dir.resolve("node-2.key"));
    assertThatThrownBy(() -> TlsFiles.read(dir, "node-2", Role.NODE))
        .hasMessageContaining("node-2.pem was not issued by the authority in");
    assertThatThrownBy(
            () ->
                LabCertificates.openOrCreate(dir, Duration.ofDays(1))
                    .issue(new Identity(Role.ADMIN, "node-1"), Duration.ofDays(1)))
        .hasMessageContaining("already holds the certificate of node node-1, not of admin node-1");
  }

  @Test
  void theAuthorityKeyIsReadableByItsOwnerOnly() throws IOException {
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("ca.key"))))
        .isEqualTo("rw-------");
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("node-1.key"))))
        .isEqualTo("rw-------");
    assertThat(
            java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve("node-1.pem"))))
        .isEqualTo("rw-r--r--");
  }

  private static String causes(Throwable e) {
    StringBuilder all = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      all.append(t.getMessage()).append('\n');
    }
    return all.toString();
  }
}
