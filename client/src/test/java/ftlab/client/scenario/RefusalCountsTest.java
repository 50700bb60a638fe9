package ftlab.client.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the recorder makes of two looks at a coordinator's refusal counts. */
class RefusalCountsTest {
  @Test
  void onlyTheLayersThatRoseAreCountedAndARestartCountsFromZero() {
    Map<String, Long> before = Map.of("identity", 2L, "guards", 40L, "handshake", 1L);
    assertThat(ScenarioRun.refusedSince(before, before)).as("nothing new").isEmpty();
    assertThat(
            ScenarioRun.refusedSince(
                before, Map.of("identity", 3L, "guards", 40L, "handshake", 1L, "revocation", 7L)))
        .as("a layer that rose, and one seen for the first time")
        .containsExactly(Map.entry("identity", 1L), Map.entry("revocation", 7L));
    assertThat(ScenarioRun.refusedSince(before, Map.of("identity", 1L, "guards", 0L)))
        .as("counts below the last look: the coordinator restarted and counts from 0")
        .containsExactly(Map.entry("identity", 1L));
  }
}
