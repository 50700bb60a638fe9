package ftlab.client.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** The report of a history made by hand: its fault windows, its chart, its page. */
class ScenarioReportTest {
  private static final String FILE =
      """
      name: a node is killed <b>
      duration: 40s
      timeline:
        - {at: 10s, do: kill, target: node-3, name: kill-3}
        - {at: 20s, do: pause, target: node-2}
        - {at: 25s, do: start, target: node-3}
      expect:
        - failed: 0
      """;

  private static List<History.Event> events() {
    List<History.Event> e = new ArrayList<>();
    for (long id = 1; id <= 400; id++) {
      long sent = (id - 1) * 100;
      Scenario.Outcome o = id == 150 ? Scenario.Outcome.FAILED : Scenario.Outcome.OK;
      e.add(
          new History.Request(
              null, id, sent, sent + 20, o, "node-1", "coordinator-1", 1, false, ""));
    }
    e.add(new History.Action(null, "kill-3", "kill", "node-3", 10_000, 10_003, 10_030, "exited"));
    e.add(new History.Action(null, "pause node-2", "pause", "node-2", 20_000, 20_001, 20_020, ""));
    e.add(new History.Action(null, "start node-3", "start", "node-3", 25_000, 25_002, 25_040, ""));
    e.add(
        new History.Transition(
            null, 10_600, "coordinator-1", "node-3", "SUSPECT", "DEAD", "no heartbeat for 600 ms"));
    return e;
  }

  @Test
  void aFaultWindowRunsFromTheBreakingActionToTheMendingOneOrTheEnd() {
    assertThat(ScenarioReport.windows(events(), 40_000))
        .containsExactly(
            new ScenarioReport.Window("node-3", "kill node-3", 10_003, 25_002),
            new ScenarioReport.Window("node-2", "pause node-2", 20_001, 40_000));
  }

  @Test
  void theChartShadesTheWindowsAndShowsTheFailedRequest() throws Exception {
    Scenario s = ScenarioFile.parse("s.yaml", FILE);
    byte[] png = ScenarioReport.png(ScenarioReport.chart(s, events(), 1200, 500));
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertThat(img.getWidth()).isEqualTo(1200);
    assertThat(img.getHeight()).isEqualTo(500);
    assertThat(count(img, ScenarioReport.FAULT_WINDOW)).as("shaded pixels").isGreaterThan(10_000);
    assertThat(count(img, ScenarioReport.FAILED)).as("the failed request's dot").isPositive();
    assertThat(count(img, ScenarioReport.OK)).as("the ok requests' dots").isPositive();
  }

  @Test
  void thePageIsSelfContainedWithTheVerdictTheChartAndTheTables() throws Exception {
    Scenario s = ScenarioFile.parse("s.yaml", FILE);
    Checker.Report verdict = Checker.check(s, events());
    String html = ScenarioReport.html(s, "s.yaml", events(), verdict, new byte[] {1, 2, 3});
    assertThat(html)
        .contains("<title>a node is killed &lt;b&gt;</title>")
        .contains("<b class=\"missed\">FAIL</b>")
        .contains(
            "<td class=\"missed\">MISSED</td><td>no failed request</td><td>1 of 400 requests failed")
        .contains("src=\"data:image/png;base64,AQID\"")
        .contains(
            "<tr><td>10.0 s</td><td>10.0 s</td><td>kill-3</td><td>after 27 ms: exited</td></tr>")
        .contains(
            "<td>10.60 s</td><td>coordinator-1</td><td>node-3</td><td>SUSPECT</td><td>DEAD</td>")
        .doesNotContain("<script")
        .doesNotContain("http://")
        .doesNotContain("https://");
  }

  private static int count(BufferedImage img, java.awt.Color c) {
    int n = 0;
    for (int x = 0; x < img.getWidth(); x++) {
      for (int y = 0; y < img.getHeight(); y++) {
        if ((img.getRGB(x, y) & 0xffffff) == (c.getRGB() & 0xffffff)) {
          n++;
        }
      }
    }
    return n;
  }
}
