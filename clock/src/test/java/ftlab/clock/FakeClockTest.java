package ftlab.clock;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class FakeClockTest {
  private final FakeClock clock = new FakeClock();
  private final List<String> ran = new ArrayList<>();

  @Test
  void timeStandsStillUntilAdvancedAndThenRunsExactlyWhatFellDueInOrder() {
    long start = clock.nanoTime();
    clock.schedule(() -> ran.add("b at 20"), 20);
    clock.schedule(() -> ran.add("a at 10"), 10);
    clock.schedule(() -> ran.add("c at 30"), 30);

    clock.advance(19);
    assertThat(ran).containsExactly("a at 10");
    assertThat(clock.nanoTime() - start).isEqualTo(19);

    clock.advance(1);
    assertThat(ran).containsExactly("a at 10", "b at 20");
    assertThat(clock.pendingDelays()).containsExactly(30L);
  }

  @Test
  void tasksDueTogetherRunInTheOrderTheyWereScheduled() {
    clock.schedule(() -> ran.add("first"), 10);
    clock.schedule(() -> ran.add("second"), 10);

    clock.advance(10);

    assertThat(ran).containsExactly("first", "second");
  }

  @Test
  void aTaskSeesTheTimeItWasDueAndWhatItSchedulesRunsIfItFallsDueInTheSameAdvance() {
    long start = clock.nanoTime();
    clock.schedule(
        () -> {
          ran.add("tick at " + (clock.nanoTime() - start));
          clock.schedule(() -> ran.add("tock at " + (clock.nanoTime() - start)), 5);
        },
        10);

    clock.advance(100);

    assertThat(ran).containsExactly("tick at 10", "tock at 15");
  }

  @Test
  void aCancelledTaskNeverRuns() {
    Scheduler.Cancellable handle = clock.schedule(() -> ran.add("cancelled"), 10);
    handle.cancel();

    clock.advance(100);

    assertThat(ran).isEmpty();
    assertThat(clock.pendingDelays()).isEmpty();
  }

  @Test
  void aPauseMovesTheClockAndTheNextAdvanceRunsWhatIsOverdue() {
    long start = clock.nanoTime();
    clock.schedule(() -> ran.add("due at 10, ran at " + (clock.nanoTime() - start)), 10);

    clock.pauseFor(50);
    assertThat(ran).isEmpty();
    clock.advance(0);

    assertThat(ran).containsExactly("due at 10, ran at 50");
  }
}
