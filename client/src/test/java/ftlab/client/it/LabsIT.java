package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every numbered lab's scenario (docs/labs/NN-*.yaml) runs to a passing verdict, on real processes
 * with real faults, so that what the labs say happens still happens. Each run's output is kept in
 * {@code client/target/labs/} (the lab pages quote such runs).
 */
class LabsIT {
  @TempDir Path dir;

  static List<Path> labs() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("..", "docs", "labs"))) {
      List<Path> labs =
          s.filter(p -> p.getFileName().toString().matches("[0-9]{2}-.*\\.yaml")).sorted().toList();
      assertThat(labs).as("the labs' scenario files").isNotEmpty();
      return labs;
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("labs")
  void theLabsScenarioPasses(Path lab) throws Exception {
    // from the checkout's root, as the labs say: the output names docs/labs/NN-*.yaml
    Path root = Path.of("..").toAbsolutePath().normalize();
    FtlabCli.Run run =
        FtlabCli.runIn(
            root,
            dir,
            "scenario",
            "run",
            "docs/labs/" + lab.getFileName(),
            "--dir",
            dir.toString());
    Path kept = Path.of("target", "labs");
    Files.createDirectories(kept);
    Files.writeString(
        kept.resolve(lab.getFileName().toString().replace(".yaml", ".out")), run.out() + run.err());
    assertThat(run.exit()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("verdict: PASS").contains("[scenario] cluster stopped");
    ScenarioIT.assertNothingRunning(run.out());
  }
}
