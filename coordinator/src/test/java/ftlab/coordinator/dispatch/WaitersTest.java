package ftlab.coordinator.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class WaitersTest {
  private final Waiters waiters = new Waiters();
  private final List<String> woken = new ArrayList<>();

  private Waiters.Waiter waiter(String name, long startNanos, boolean stillWaits) {
    return waiters.waiter(
        startNanos,
        () -> {
          woken.add(name);
          return stillWaits;
        });
  }

  @Test
  void eachFreedSlotWakesTheOldestRequestWhateverTheOrderTheyPaused() {
    waiters.add(waiter("young", 300, true));
    waiters.add(waiter("old", 100, true));
    waiters.add(waiter("middle", 200, true));

    assertThat(waiters.slotFreed()).isTrue();
    assertThat(waiters.slotFreed()).isTrue();
    assertThat(woken).containsExactly("old", "middle");
    assertThat(waiters.size()).isEqualTo(1);
  }

  @Test
  void requestsOfTheSameAgeGoInTheOrderTheyPaused() {
    waiters.add(waiter("first", 100, true));
    waiters.add(waiter("second", 100, true));

    waiters.slotFreed();
    waiters.slotFreed();

    assertThat(woken).containsExactly("first", "second");
  }

  @Test
  void aWaiterThatNoLongerWaitsPassesTheSlotOn() {
    waiters.add(waiter("timer woke it already", 100, false));
    waiters.add(waiter("next", 200, true));

    assertThat(waiters.slotFreed()).isTrue();
    assertThat(woken).containsExactly("timer woke it already", "next");
    assertThat(waiters.size()).isZero();
    assertThat(waiters.slotFreed()).as("nobody waits: the slot stays free").isFalse();
  }

  @Test
  void aWaiterThatJoinsTheLineAgainIsNotWokenAgainForTheSameSlot() {
    // woken, it finds no room after all and pauses again: back in line at its old place
    Waiters.Waiter[] self = new Waiters.Waiter[1];
    self[0] =
        waiters.waiter(
            100,
            () -> {
              woken.add("full again");
              waiters.add(self[0]);
              return false;
            });
    waiters.add(self[0]);

    assertThat(waiters.slotFreed()).isFalse();
    assertThat(woken).containsExactly("full again");
    assertThat(waiters.size()).isEqualTo(1);
  }

  @Test
  void aRemovedWaiterIsNotWoken() {
    Waiters.Waiter gone = waiter("ended", 100, true);
    waiters.add(gone);
    waiters.add(waiter("waiting", 200, true));
    waiters.remove(gone);

    waiters.slotFreed();

    assertThat(woken).containsExactly("waiting");
  }
}
