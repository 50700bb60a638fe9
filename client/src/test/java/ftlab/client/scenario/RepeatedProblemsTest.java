package ftlab.client.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RepeatedProblemsTest {
  @Test
  void aRunOfTheSameReasonIsSaidOnceAndCountedUntilAnotherComes() {
    List<String> said = new ArrayList<>();
    RepeatedProblems p = new RepeatedProblems(said::add);
    p.problem(7, "failed needs 2 nodes, 1 for 612 ms", "#7 FAILED: needs 2 nodes, 1 for 612 ms");
    p.problem(8, "failed needs 2 nodes, 1 for 650 ms", "#8 ...");
    p.problem(9, "failed needs 2 nodes, 1 for 700 ms", "#9 ...");
    p.problem(10, "wrong answered by node-2", "#10 WRONG: answered by node-2");
    p.problem(11, "wrong answered by node-2", "#11 ...");
    p.flush();
    p.problem(12, "wrong answered by node-2", "#12 WRONG: answered by node-2");
    p.problem(13, "wrong answered by node-3", "#13 WRONG: answered by node-3");
    p.flush();
    p.flush();
    assertThat(said)
        .containsExactly(
            "#7 FAILED: needs 2 nodes, 1 for 612 ms",
            "... and 2 more the same way (#8 to #9)",
            "#10 WRONG: answered by node-2",
            "... and 1 more the same way (#11)",
            "#12 WRONG: answered by node-2",
            "#13 WRONG: answered by node-3");
  }
}
