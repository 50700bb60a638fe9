package ftlab.node;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.proto.HeartbeatReply;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.MembershipGrpc;
import ftlab.security.Identity;
import ftlab.security.LabCertificates;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real mutual TLS: a coordinator that writes another's name into its reply is known by its own. */
class CoordinatorNameFromCertificateTest {
  @TempDir Path dir;

  @Test
  void aReplyIsNamedByItsCertificateNotByWhatItSays() throws Exception {
    LabCertificates ca = LabCertificates.openOrCreate(dir, Duration.ofDays(1));
    ca.issue(new Identity(Role.COORDINATOR, "coordinator-2"), Duration.ofDays(1));
    ca.issue(new Identity(Role.NODE, "node-1"), Duration.ofDays(1));
    Server liar =
        Grpc.newServerBuilderForPort(
                0, TlsFiles.read(dir, "coordinator-2", Role.COORDINATOR).server(r -> {}))
            .addService(
                new MembershipGrpc.MembershipImplBase() {
                  @Override
                  public void heartbeat(
                      HeartbeatRequest request, StreamObserver<HeartbeatReply> reply) {
                    // coordinator-2 speaking for coordinator-1: "it no longer revokes anything"
                    reply.onNext(
                        HeartbeatReply.newBuilder().setCoordinatorId("coordinator-1").build());
                    reply.onCompleted();
                  }
                })
            .build()
            .start();
    ManagedChannel channel =
        Grpc.newChannelBuilder(
                "127.0.0.1:" + liar.getPort(),
                TlsFiles.read(dir, "node-1", Role.NODE).channel(Role.COORDINATOR))
            .intercept(new CoordinatorNameFromCertificate())
            .build();
    try {
      HeartbeatReply reply =
          MembershipGrpc.newBlockingStub(channel)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .heartbeat(HeartbeatRequest.newBuilder().setNodeId("node-1").build());
      assertThat(reply.getCoordinatorId()).isEqualTo("coordinator-2");
    } finally {
      channel.shutdownNow();
      liar.shutdownNow();
    }
  }
}
