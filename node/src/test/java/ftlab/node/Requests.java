package ftlab.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ftlab.proto.ComputeRequest;
import ftlab.proto.CountPrimes;
import ftlab.proto.Echo;
import ftlab.proto.Task;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Tasks and Compute requests for the tests, and the status a failed call ended with. */
final class Requests {
  private Requests() {}

  /** Count the primes in [from, to): CPU work. */
  static Task primes(long from, long to) {
    return Task.newBuilder()
        .setCountPrimes(CountPrimes.newBuilder().setFrom(from).setTo(to))
        .build();
  }

  /** Wait {@code delayMs}, then answer {@code value}: a task that takes as long as we like. */
  static Task echo(int delayMs, String value) {
    return Task.newBuilder().setEcho(Echo.newBuilder().setDelayMs(delayMs).setValue(value)).build();
  }

  static ComputeRequest compute(Task task) {
    return ComputeRequest.newBuilder().setRequestId("test").setTask(task).build();
  }

  /** The status {@code call} failed with; the test fails if the call succeeded. */
  static Status statusOf(ThrowingCallable call) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).as("the call should have failed").isInstanceOf(StatusRuntimeException.class);
    return ((StatusRuntimeException) thrown).getStatus();
  }
}
