package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every numbered lab's scenario (docs/labs/NN-*.yaml) runs to a passing verdict, on real processes
 * with real faults, so that what the labs say happens still happens; each writes its report (page
 * and chart), and {@code ftlab scenario check} gives the same verdict from its history alone. Each
 * run's output is kept in {@code client/target/labs/} (the lab pages quote such runs).
 */
class LabsIT {
  @TempDir Path dir;

  static List<Path> labs() throws IOException {
    try (Stream<Path> s = Files.list(Path.of("..", "docs", "labs"))) {
      // the compose lab's (target: compose) are run by docker/journey.sh, on the lab it starts
      List<Path> labs =
          s.filter(p -> p.getFileName().toString().matches("[0-9]{2}-.*\\.yaml"))
              .filter(p -> !COMPOSE.matcher(read(p)).find())
              .sorted()
              .toList();
      assertThat(labs).as("the labs' scenario files").isNotEmpty();
      return labs;
    }
  }

  private static final Pattern COMPOSE = Pattern.compile("(?m)^target:\\s*compose\\b");

  private static String read(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
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
    assertThat(run.out())
        .contains("verdict: PASS")
        .contains("[scenario] cluster stopped")
        .doesNotContain("DID NOT TAKE EFFECT");
    ScenarioIT.assertNothingRunning(run.out());

    // the report beside the history: the page with the verdict and the chart inlined, the chart
    Matcher m = HISTORY.matcher(run.out());
    assertThat(m.find()).as("the run's 'history:' line").isTrue();
    Path history = Path.of(m.group(1));
    String base = history.toString().replaceFirst("\\.jsonl$", "");
    assertThat(run.out())
        .contains("report: " + base + ".html (opens offline); chart: " + base + ".png");
    assertThat(Files.readString(Path.of(base + ".html")))
        .contains("<b class=\"met\">PASS</b>")
        .contains("data:image/png;base64,");
    assertThat(javax.imageio.ImageIO.read(Path.of(base + ".png").toFile()).getWidth())
        .isEqualTo(1200);

    // the same verdict from the history alone
    FtlabCli.Run check = FtlabCli.run(dir, "scenario", "check", history.toString());
    assertThat(check.exit()).as(check.out() + check.err()).isZero();
    List<String> verdict = verdictLines(run.out());
    assertThat(verdict).isNotEmpty();
    assertThat(verdictLines(check.out())).isEqualTo(verdict);
  }

  private static final Pattern HISTORY =
      Pattern.compile("history: (\\S+)  \\(ftlab scenario check");

  /** The verdict's table: one line per expectation, " met ..." or " MISSED ...". */
  private static List<String> verdictLines(String out) {
    return out.lines().filter(l -> l.startsWith("  met ") || l.startsWith("  MISSED ")).toList();
  }
}
