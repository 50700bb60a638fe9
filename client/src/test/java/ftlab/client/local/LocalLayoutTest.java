package ftlab.client.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.client.DurationConverter;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.TypeConversionException;

class LocalLayoutTest {
  @Test
  void defaultLayoutIsTheLabs() {
    LocalLayout l = LocalLayout.DEFAULT;
    assertThat(l.coordinatorAddresses()).containsExactly("127.0.0.1:7001", "127.0.0.1:7002");
    assertThat(l.nodeName(5)).isEqualTo("node-5");
  }

  @Test
  void badLayoutsAreRefusedWithTheBadValue() {
    assertThatThrownBy(() -> new LocalLayout(0, 5, 7001, 7101, 4, 100))
        .hasMessage("number of coordinators must be between 1 and 9, got 0");
    assertThatThrownBy(() -> new LocalLayout(2, 5, 70000, 7101, 4, 100))
        .hasMessage(
            "coordinator ports out of range: 70000-70001 (allowed: 1024-64535, since each"
                + " member's HTTP port is 1000 above)");
    assertThatThrownBy(() -> new LocalLayout(2, 5, 8101, 7101, 4, 100))
        .hasMessage(
            "the members' HTTP ports (each gRPC port + 1000: 9101-9102 and 8101-8105) overlap"
                + " their gRPC ports 8101-8102 and 7101-7105");
    assertThatThrownBy(() -> new LocalLayout(2, 5, 7001, 7002, 4, 100))
        .hasMessage("coordinator ports 7001-7002 overlap node ports 7002-7006");
    assertThatThrownBy(() -> new LocalLayout(2, 5, 7001, 7101, 0, 100))
        .hasMessage("node capacity must be at least 1, got 0");
  }

  @Test
  void freePortLayoutsAreFree() {
    LocalLayout l = LocalLayout.onFreePorts(2, 3, 4);
    assertThat(LocalLayout.isFree(l.coordinatorBasePort())).isTrue();
    assertThat(LocalLayout.isFree(l.nodeBasePort() + 2)).isTrue();
    // below the ports the kernel gives outgoing connections, so none of those can take one
    assertThat(LocalLayout.ephemeralPortsFrom()).isGreaterThan(20_000);
    assertThat(l.nodeBasePort() + 2).isLessThan(LocalLayout.ephemeralPortsFrom());
  }

  @Test
  void durationsAreReadAsPeopleWriteThem() {
    DurationConverter c = new DurationConverter();
    assertThat(c.convert("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(c.convert("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(c.convert("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(c.convert("1h")).isEqualTo(Duration.ofHours(1));
    assertThat(c.convert("1.5")).isEqualTo(Duration.ofMillis(1500));
    assertThatThrownBy(() -> c.convert("soon"))
        .isInstanceOf(TypeConversionException.class)
        .hasMessage("'soon' is not a duration; write e.g. 500ms, 30s, 2m or 1h");
  }
}
