package ftlab.client;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.node.faults.FaultPlan;
import ftlab.node.faults.FaultText;
import ftlab.proto.FaultWords;
import ftlab.proto.Faults;
import ftlab.proto.Lie;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The words for a node's faults that status and chaos print. */
class FaultWordsTest {

  /**
   * They are the node's own words, as in its log and its FaultsReply (the node's jar is on this
   * module's test class path), so that status, chaos and the node's log say the same thing.
   */
  @ParameterizedTest
  @ValueSource(
      strings = {
        "slow:200ms+50ms@10%",
        "slow:1s",
        "error@20%",
        "error:INTERNAL",
        "lie@12.5%",
        "lie,freeze,mute-heartbeats",
        "slow:5ms@1%,error:DEADLINE_EXCEEDED@0.5,lie@30%,freeze,mute-heartbeats",
        ""
      })
  void areTheNodesWords(String text) {
    FaultPlan plan = FaultText.parse(text);

    assertThat(FaultWords.describe(plan.toProto())).isEqualTo(plan.describe());
  }

  @Test
  void unsetDefaultsReadAsTheNodeReadsThem() {
    // fractions and code left unset on the wire: every task, UNAVAILABLE
    Faults sparse =
        Faults.newBuilder()
            .setError(ftlab.proto.Error.getDefaultInstance())
            .setLie(Lie.getDefaultInstance())
            .build();
    assertThat(FaultWords.describe(sparse))
        .isEqualTo(FaultPlan.fromProto(sparse).describe())
        .isEqualTo("error UNAVAILABLE on every task; lie on every task");
  }

  @Test
  void noFaultsIsNoWords() {
    assertThat(FaultWords.describe(Faults.getDefaultInstance())).isEmpty();
    assertThat(FaultWords.describeOr(Faults.getDefaultInstance(), "-")).isEqualTo("-");
  }
}
