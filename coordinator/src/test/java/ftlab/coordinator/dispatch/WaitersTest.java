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

  /**
   * A request that, woken, cannot use the slot (the nodes with room are ones it may not ask) and
   * pauses again: back in line at its old place, under a new waiter, as RequestRun does it.
   */
  private Waiters.Waiter rejoining(String name, long startNanos, List<Waiters.Waiter> rejoined) {
    return waiters.waiter(
        startNanos,
        () -> {
          woken.add(name);
          Waiters.Waiter again = waiter(name + " again", startNanos, true);
          rejoined.add(again);
          waiters.add(again);
          return false;
        });
  }

  @Test
  void aWaiterThatJoinsTheLineAgainLetsTheNextHaveTheSlotAndKeepsItsPlace() {
    List<Waiters.Waiter> rejoined = new ArrayList<>();
    waiters.add(rejoining("vote", 100, rejoined));
    waiters.add(waiter("failover", 200, true));

    assertThat(waiters.slotFreed()).isTrue();
    assertThat(woken).containsExactly("vote", "failover");
    assertThat(waiters.size()).isEqualTo(1);

    waiters.add(waiter("younger", 300, true));
    assertThat(waiters.slotFreed()).as("the next slot: the oldest again").isTrue();
    assertThat(woken).containsExactly("vote", "failover", "vote again");
  }

  @Test
  void aWaiterThatJoinedAgainIsInLineForASlotFreedMeanwhileOnAnotherThread() {
    List<Waiters.Waiter> rejoined = new ArrayList<>();
    waiters.add(rejoining("vote", 100, rejoined));
    List<Boolean> meanwhile = new ArrayList<>();
    // while the first slot is offered to the next in line, another attempt ends (another thread
    // in the coordinator; here, the same one): the vote request, in line again, is offered it
    waiters.add(
        waiters.waiter(
            200,
            () -> {
              woken.add("failover");
              meanwhile.add(waiters.slotFreed());
              return true;
            }));

    assertThat(waiters.slotFreed()).isTrue();
    assertThat(meanwhile).containsExactly(true);
    assertThat(woken).containsExactly("vote", "failover", "vote again");
    assertThat(waiters.size()).isZero();
  }

  @Test
  void aWaiterTakenOutWhileTheLineIsWalkedIsNotWoken() {
    List<Waiters.Waiter> rejoined = new ArrayList<>();
    waiters.add(rejoining("vote", 100, rejoined));
    // while the slot is offered to the next, the vote request's new pause ends (its timer)
    waiters.add(
        waiters.waiter(
            200,
            () -> {
              waiters.remove(rejoined.get(0));
              return false; // and this one no longer waited either
            }));

    assertThat(waiters.slotFreed()).isFalse();
    assertThat(woken).containsExactly("vote");
    assertThat(waiters.size()).isZero();
  }

  @Test
  void theWalkEndsEvenIfAWakeAddsItsOwnWaiterBack() {
    Waiters.Waiter[] self = new Waiters.Waiter[1];
    self[0] =
        waiters.waiter(
            100,
            () -> {
              woken.add("again");
              waiters.add(self[0]); // not what a request does (a new waiter per pause)
              return false;
            });
    waiters.add(self[0]);

    assertThat(waiters.slotFreed()).isFalse();
    assertThat(woken).containsExactly("again");
  }

  @Test
  void aSlotFreedBeforeARequestJoinedTheLineIsNotMissed() {
    long seen = waiters.freed();
    assertThat(waiters.slotFreed()).as("nobody in line yet").isFalse();

    assertThat(waiters.addUnlessFreedSince(waiter("late", 100, true), seen))
        .as("it should look at the nodes again instead of waiting")
        .isFalse();
    assertThat(waiters.size()).isZero();
    assertThat(waiters.addUnlessFreedSince(waiter("late", 100, true), waiters.freed())).isTrue();
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
