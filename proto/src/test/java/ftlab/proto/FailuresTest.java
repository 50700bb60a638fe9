package ftlab.proto;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.nio.channels.ClosedChannelException;
import org.junit.jupiter.api.Test;

class FailuresTest {
  @Test
  void aBrokenConnectionReportedAsUnknownIsUnavailable() {
    Status s =
        Failures.normalize(
            Status.UNKNOWN
                .withDescription("channel closed")
                .withCause(new ClosedChannelException()));
    assertThat(s.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(s.getDescription()).isEqualTo("connection lost during the call (channel closed)");
  }

  @Test
  void anErrorMarkedByTheNodeIsItsOwnAnswer() {
    Throwable fromNode = Status.UNAVAILABLE.asRuntimeException(Failures.answeredBy("node-2"));
    Throwable fromTransport =
        Status.UNAVAILABLE.withDescription("io exception").asRuntimeException();
    assertThat(Failures.answeredByPeer(fromNode)).isTrue();
    assertThat(Failures.answeredByPeer(fromTransport)).isFalse();
  }

  @Test
  void timeoutsAndBrokenConnectionsMayHaveRunRefusalsDidNot() {
    assertThat(Failures.mayHaveRun(Status.DEADLINE_EXCEEDED.asRuntimeException())).isTrue();
    assertThat(
            Failures.mayHaveRun(
                Status.UNKNOWN
                    .withDescription("channel closed")
                    .withCause(new ClosedChannelException())
                    .asRuntimeException()))
        .isTrue();
    assertThat(
            Failures.mayHaveRun(
                Status.UNAVAILABLE
                    .withDescription("io exception")
                    .withCause(new java.net.ConnectException("Connection refused"))
                    .asRuntimeException()))
        .isFalse();
    assertThat(
            Failures.mayHaveRun(
                Status.UNAVAILABLE.asRuntimeException(Failures.answeredBy("node-1"))))
        .isFalse();
    assertThat(Failures.mayHaveRun(Status.RESOURCE_EXHAUSTED.asRuntimeException())).isFalse();
  }

  @Test
  void anUnknownFromThePeerStaysUnknown() {
    Status peer = Status.UNKNOWN.withDescription("Application error processing RPC");
    assertThat(Failures.normalize(peer)).isSameAs(peer);
    Status other = Status.INVALID_ARGUMENT.withCause(new ClosedChannelException());
    assertThat(Failures.normalize(other)).isSameAs(other);
  }
}
