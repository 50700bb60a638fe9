package ftlab.coordinator.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.entry;

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

  @Test
  void everyCoordinatorsDashboardIsReadFromOneSetting() {
    assertThat(
            DashboardHttp.parseDashboards(
                "coordinator-1=http://127.0.0.1:8001, coordinator-2=http://127.0.0.1:8002/"))
        .containsExactly(
            entry("coordinator-1", "http://127.0.0.1:8001/"),
            entry("coordinator-2", "http://127.0.0.1:8002/"));
    assertThat(DashboardHttp.parseDashboards("")).isEmpty();
    assertThatThrownBy(() -> DashboardHttp.parseDashboards("http://127.0.0.1:8001"))
        .hasMessageContaining("is not ID=URL");
    assertThatThrownBy(() -> DashboardHttp.parseDashboards("c1=127.0.0.1:8001"))
        .hasMessage("'127.0.0.1:8001' (for c1) is not an http:// URL with a host");
    assertThatThrownBy(() -> DashboardHttp.parseDashboards("c1=http://a:1,c1=http://b:2"))
        .hasMessage("c1 is given twice");
  }

  @Test
  void theViewMayBeReadByTheOtherDashboardsAndPagesOnThisMachineOnly() {
    DashboardHttp http =
        new DashboardHttp(
            "coordinator-1",
            null,
            null,
            null,
            address -> null,
            DashboardHttp.parseDashboards("coordinator-2=http://10.0.0.5:8002"),
            false);
    assertThat(http.originAllowed("http://10.0.0.5:8002")).isTrue();
    assertThat(http.originAllowed("http://127.0.0.1:8002")).isTrue();
    assertThat(http.originAllowed("http://localhost:8001")).isTrue();
    assertThat(http.originAllowed("http://10.0.0.5:9999")).isFalse();
    assertThat(http.originAllowed("https://evil.example.com")).isFalse();
    assertThat(http.originAllowed("null")).isFalse();
  }

  @Test
  void theChartsLibraryIsInTheJar() {
    assertThat(DashboardHttp.class.getResource(DashboardHttp.UPLOT + "uPlot.iife.min.js"))
        .as("uPlot's WebJar at the version DashboardHttp.UPLOT names")
        .isNotNull();
  }
}
