package ftlab.client.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The compose lab's samples read docker stats' memory column as it prints it. */
class DockerStatsTest {
  @Test
  void memoryInBinaryAndDecimalUnitsIsReadAsKibibytes() {
    assertThat(ComposeScenarioRun.kibibytes("68.43MiB ")).isEqualTo(70_072);
    assertThat(ComposeScenarioRun.kibibytes("1.5GiB")).isEqualTo(1_572_864);
    assertThat(ComposeScenarioRun.kibibytes("512KiB")).isEqualTo(512);
    assertThat(ComposeScenarioRun.kibibytes("2048B")).isEqualTo(2);
    assertThat(ComposeScenarioRun.kibibytes("100MB")).isEqualTo(97_656);
    assertThat(ComposeScenarioRun.kibibytes("1.024kB")).isEqualTo(1);
    assertThat(ComposeScenarioRun.kibibytes("--")).as("a container gone: no figure").isEqualTo(-1);
    assertThat(ComposeScenarioRun.kibibytes("")).isEqualTo(-1);
  }
}
