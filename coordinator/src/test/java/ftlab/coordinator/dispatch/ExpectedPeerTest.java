package ftlab.coordinator.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.proto.Failures;
import ftlab.security.Identity;
import ftlab.security.LabCertificates;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.protobuf.services.HealthStatusManager;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real mutual TLS on 127.0.0.1: node-1's certificate serves a port, and a coordinator's channel
 * with {@link ExpectedPeer} calls it once as node-1 and once as node-3 (node-3 advertised node-1's
 * address).
 */
class ExpectedPeerTest {
  @TempDir Path dir;
  private Server node1;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    LabCertificates ca = LabCertificates.openOrCreate(dir, Duration.ofDays(1));
    ca.issue(new Identity(Role.NODE, "node-1"), Duration.ofDays(1));
    ca.issue(new Identity(Role.COORDINATOR, "coordinator-1"), Duration.ofDays(1));
    node1 =
        Grpc.newServerBuilderForPort(
                0, TlsFiles.read(dir, "node-1", Role.NODE).server(refusal -> {}))
            .addService(new HealthStatusManager().getHealthService())
            .build()
            .start();
    channel =
        Grpc.newChannelBuilder(
                "127.0.0.1:" + node1.getPort(),
                TlsFiles.read(dir, "coordinator-1", Role.COORDINATOR).channel(Role.NODE))
            .intercept(new ExpectedPeer())
            .build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow();
    node1.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private HealthCheckResponse.ServingStatus check(Identity expected) {
    HealthGrpc.HealthBlockingStub stub =
        HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    if (expected != null) {
      stub = stub.withOption(ExpectedPeer.EXPECTED, expected);
    }
    return stub.check(HealthCheckRequest.getDefaultInstance()).getStatus();
  }

  @Test
  void theNodeWhoseCertificateAnswersGetsItsCall() {
    assertThat(check(new Identity(Role.NODE, "node-1")))
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
    assertThat(check(null)).isEqualTo(HealthCheckResponse.ServingStatus.SERVING); // no check
  }

  @Test
  void aCallForAnotherNodeEndsAtTheFirstHeadersSayingWhoWasThere() {
    assertThatThrownBy(() -> check(new Identity(Role.NODE, "node-3")))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
              assertThat(e.getStatus().getDescription())
                  .isEqualTo(
                      "the server there showed the certificate of node node-1, not of node"
                          + " node-3: the address is not node-3's");
              // as a wrong answer's node id: no evidence against node-3, the connection dropped
              assertThat(Failures.answeredByPeer(e)).isTrue();
              assertThat(e.getTrailers().get(Failures.ANSWERED_BY)).isEqualTo("node-1");
            });
    // the connection itself is fine: node-1's own calls go on on it
    assertThat(check(new Identity(Role.NODE, "node-1")))
        .isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
  }
}
