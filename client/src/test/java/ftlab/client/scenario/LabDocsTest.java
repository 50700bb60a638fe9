package ftlab.client.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The labs' pages and their scenario files agree: every docs/labs/NN-*.yaml has its page, listed in
 * the labs' index, which says how to run it and names every expectation as the verdict prints it
 * (so a changed expectation cannot leave an old page behind). LabsIT runs the files.
 */
class LabDocsTest {
  private static final Path LABS = Path.of("..", "docs", "labs");

  @Test
  void everyLabHasAPageThatRunsItsFileAndNamesItsExpectations() throws Exception {
    List<Path> files;
    try (Stream<Path> s = Files.list(LABS)) {
      files =
          s.filter(p -> p.getFileName().toString().matches("[0-9]{2}-.*\\.yaml")).sorted().toList();
    }
    assertThat(files).hasSizeGreaterThanOrEqualTo(6);
    String index = Files.readString(LABS.resolve("README.md"));
    for (Path file : files) {
      String stem = file.getFileName().toString().replace(".yaml", "");
      Path page = LABS.resolve(stem + ".md");
      assertThat(page).as("the page of " + file).exists();
      String text = Files.readString(page);
      Scenario scenario = parse(file);
      assertThat(text)
          .as(page.toString())
          .contains("ftlab scenario run docs/labs/" + stem + ".yaml")
          .contains("scenario \"" + scenario.name() + "\"");
      for (Scenario.Expectation e : scenario.expectations()) {
        assertThat(text).as(page + " shows the verdict on: " + e.describe()).contains(e.describe());
      }
      assertThat(index).as("docs/labs/README.md links " + page).contains("(" + stem + ".md)");
    }
  }

  private static Scenario parse(Path file) throws IOException {
    try {
      return ScenarioFile.parse(file.toString(), Files.readString(file));
    } catch (ScenarioFile.Invalid e) {
      throw new AssertionError(String.join("\n", e.errors()), e);
    }
  }
}
