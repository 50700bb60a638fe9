package ftlab.client.admin;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.proto.ClusterView;
import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyMode;
import java.util.List;
import org.junit.jupiter.api.Test;

/** 'ftlab mode' with no mode: a disagreement between coordinators is said, not left to spot. */
class ModeCommandTest {
  private static ClusterView view(String id, RedundancyMode mode, int replicas) {
    return ClusterView.newBuilder()
        .setCoordinatorId(id)
        .setRedundancy(Redundancy.newBuilder().setMode(mode).setReplicas(replicas))
        .build();
  }

  @Test
  void coordinatorsInDifferentModesAreSaidToDisagree() {
    assertThat(
            ModeCommand.disagreement(
                List.of(
                    view("coordinator-1", RedundancyMode.FAILOVER, 3),
                    view("coordinator-2", RedundancyMode.VOTE, 3))))
        .hasValue(
            "the coordinators are not in the same mode (coordinator-1 failover, coordinator-2"
                + " vote x3): a restarted coordinator starts in its FTLAB_MODE again, the others"
                + " keep what 'ftlab mode' set; 'ftlab mode MODE' sets them all");
  }

  @Test
  void coordinatorsInTheSameModeAreNot() {
    // the count kept by a coordinator in failover mode is not a difference
    assertThat(
            ModeCommand.disagreement(
                List.of(
                    view("coordinator-1", RedundancyMode.FAILOVER, 3),
                    view("coordinator-2", RedundancyMode.FAILOVER, 5))))
        .isEmpty();
    assertThat(ModeCommand.disagreement(List.of(view("c1", RedundancyMode.VOTE, 3)))).isEmpty();
  }
}
