package ftlab.coordinator;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OwnAddressesTest {
  private static InetAddress ip(String a) {
    try {
      return InetAddress.getByName(a);
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static final InetAddress A = ip("172.19.0.2");
  private static final InetAddress B = ip("172.19.0.9");
  private static final InetAddress C = ip("10.0.0.7");

  private final OwnAddresses addresses = new OwnAddresses();

  @Test
  void theFirstLookAndTheSameAddressesLoseNothing() {
    assertThat(addresses.look(Set.of(A))).isEmpty();
    assertThat(addresses.look(Set.of(A))).isEmpty();
  }

  @Test
  void cutOffAndBackAtTheSameAddressLosesNothing() {
    addresses.look(Set.of(A));
    assertThat(addresses.look(Set.of())).as("cut off: it waits").isEmpty();
    assertThat(addresses.look(Set.of())).isEmpty();
    assertThat(addresses.look(Set.of(A))).isEmpty();
  }

  @Test
  void backAtAnotherAddressLosesTheOldOneOnce() {
    addresses.look(Set.of(A));
    addresses.look(Set.of());
    assertThat(addresses.look(Set.of(B))).containsExactly(A);
    assertThat(addresses.look(Set.of(B))).as("said once").isEmpty();
  }

  @Test
  void anotherNetworkAddedLosesNothingAndOneOfTwoRemovedIsLost() {
    addresses.look(Set.of(A));
    assertThat(addresses.look(Set.of(A, C))).isEmpty();
    assertThat(addresses.look(Set.of(C))).containsExactly(A);
  }
}
