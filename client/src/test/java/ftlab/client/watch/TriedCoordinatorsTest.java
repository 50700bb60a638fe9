package ftlab.client.watch;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TriedCoordinatorsTest {
  @Test
  void oneFailureReadsAsItHappened() {
    TriedCoordinators tried = new TriedCoordinators();
    tried.failed("c-1:7001", 2001, "DEADLINE_EXCEEDED");
    assertThat(tried.sentences())
        .containsExactly("c-1:7001 failed 2001 ms into the request: DEADLINE_EXCEEDED");
  }

  @Test
  void repeatsOfOneCoordinatorAndReasonFoldIntoOneSentenceInTheOrderTheyFirstFailed() {
    TriedCoordinators tried = new TriedCoordinators();
    tried.failed("c-2:7002", 5, "UNAVAILABLE: refused");
    tried.failed("c-1:7001", 36, "UNAVAILABLE: refused");
    tried.failed("c-2:7002", 102, "UNAVAILABLE: refused");
    tried.failed("c-1:7001", 965, "UNAVAILABLE: refused");
    tried.failed("c-2:7002", 990, "DEADLINE_EXCEEDED");
    assertThat(tried.sentences())
        .containsExactly(
            "c-2:7002 failed 2 times, 5 to 102 ms into the request: UNAVAILABLE: refused",
            "c-1:7001 failed 2 times, 36 to 965 ms into the request: UNAVAILABLE: refused",
            "c-2:7002 failed 990 ms into the request: DEADLINE_EXCEEDED");
  }

  @Test
  void nothingTriedIsNothingToSay() {
    assertThat(new TriedCoordinators().sentences()).isEmpty();
  }
}
