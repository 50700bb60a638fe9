package ftlab.node.faults;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.proto.CountPrimes;
import ftlab.proto.Echo;
import ftlab.proto.Task;
import ftlab.proto.TaskResult;
import ftlab.task.Tasks;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A lying node's results: wrong, but plausible. */
class LiesTest {

  @ParameterizedTest
  @CsvSource({"0, 1", "78498, 78499"})
  void aPrimeCountIsOneTooHigh(long truth, long lie) {
    Task task = Task.newBuilder().setCountPrimes(CountPrimes.newBuilder().setTo(10)).build();
    TaskResult wrong = Lies.wrong(task, TaskResult.newBuilder().setPrimeCount(truth).build());
    assertThat(wrong.getPrimeCount()).isEqualTo(lie);
  }

  @ParameterizedTest
  @CsvSource(
      value = {
        "r41, r42", // the client's echoes are r<request id>: as if two requests were mixed up
        "r9, r10",
        "id-099, id-100",
        "hello, hellp",
        "fizz, fiza",
        "ZZ, ZA",
        "42!, 42!x",
        "'', x",
        "123456789012345678901234567890, 123456789012345678901234567891"
      },
      emptyValue = "")
  void anEchoChangesVisiblyButPlausibly(String truth, String lie) {
    Task task = Task.newBuilder().setEcho(Echo.newBuilder().setValue(truth)).build();
    TaskResult real = Tasks.expectedResult(task);

    TaskResult wrong = Lies.wrong(task, real);

    assertThat(wrong.getEchoed()).isEqualTo(lie).isNotEqualTo(truth);
  }
}
