package ftlab.coordinator.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Which Host a change may come through (the rest of DashboardHttp: DashboardIT, over real HTTP).
 */
class DashboardHttpTest {
  @Test
  void changesComeOnlyThroughAddressesLocalhostOrContainerNames() {
    assertThat(DashboardHttp.hostAllowed("127.0.0.1:8001")).isTrue();
    assertThat(DashboardHttp.hostAllowed("localhost:8001")).isTrue();
    assertThat(DashboardHttp.hostAllowed("[::1]:8001")).isTrue();
    assertThat(DashboardHttp.hostAllowed("10.0.3.7")).isTrue();
    assertThat(DashboardHttp.hostAllowed("coordinator-1:8001")).isTrue();
    // a name of someone else's pointed at this port (DNS rebinding)
    assertThat(DashboardHttp.hostAllowed("evil.example.com:8001")).isFalse();
    assertThat(DashboardHttp.hostAllowed("")).isFalse();
    assertThat(DashboardHttp.hostAllowed(null)).isFalse();
  }
}
