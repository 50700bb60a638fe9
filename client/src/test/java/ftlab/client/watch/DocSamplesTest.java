package ftlab.client.watch;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.client.status.StatusCommand;
import ftlab.proto.ClusterView;
import ftlab.proto.DetectorSettings;
import ftlab.proto.Load;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The output samples in README.md and docs/*.md are what the code prints today: every answer line,
 * 5-second summary, verdict and status table in a fenced block is read back into its values and
 * printed again with the CLI's own formats, and must come out the same (a status table's columns
 * and words, its WHY and FAULTS columns where the header puts them). A format change that leaves a
 * sample behind fails here, with the file and line to re-capture from a real run.
 *
 * <p>A sample may leave out a whole " | "-separated section of a summary as {@code ...}, and rows
 * of a status table; it may not change a word.
 */
class DocSamplesTest {
  private static final Path HOME =
      Path.of(System.getProperty("ftlab.home", "..")).toAbsolutePath().normalize();

  /** "client_1 | " (Compose 1.29) or "client-1 | " (v2) before a container's line. */
  private static final Pattern COMPOSE_PREFIX = Pattern.compile("^[\\w.-]+\\s+\\| ");

  private static final Pattern ANSWER =
      Pattern.compile(
          "^(#\\d+)\\s+(\\S+)\\s+(\\S+)\\s+(verified|WRONG)\\s+(\\S+)\\s+(vote \\d+/\\d+|\\S+)"
              + "\\s+(\\d+)\\s+(\\S+)\\s+(\\d+(?:\\.\\d+)? ms)(.*)$");

  private static final Pattern FAILED =
      Pattern.compile("^(#\\d+)\\s+(\\S+) FAILED after (\\S+ ms): (.*)$");

  private static final Pattern STATUS_FIRST =
      Pattern.compile(
          "^(\\S+) at (\\S+): (\\d+) nodes; SUSPECT after (\\d+) ms, DEAD after (\\d+) ms without a"
              + " heartbeat; redundancy: (.+)$");

  private static final Pattern STATUS_ROW_HEAD =
      Pattern.compile(
          "^(\\S+)\\s+([A-Z]+)\\s+(\\S+)\\s+(\\d+(?:\\.\\d)? (?:ms|s|min))\\s+(\\d+)/(\\d+)"
              + "\\s+(\\d+)\\s+(\\d+)\\s+(\\d+\\.\\d) ms\\s+(\\d+(?:\\.\\d)? (?:ms|s|min))\\s*$");

  record Sample(String file, int line, String text) {
    String where() {
      return file + ":" + line;
    }
  }

  /** Every line inside a fenced block of the README and the docs, with a container's prefix cut. */
  private static List<Sample> samples() throws IOException {
    List<Path> files = new ArrayList<>();
    files.add(HOME.resolve("README.md"));
    try (Stream<Path> docs = Files.list(HOME.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(files::add);
    }
    List<Sample> out = new ArrayList<>();
    for (Path f : files) {
      boolean fenced = false;
      List<String> lines = Files.readAllLines(f);
      for (int i = 0; i < lines.size(); i++) {
        String l = lines.get(i);
        if (l.startsWith("```")) {
          fenced = !fenced;
          continue;
        }
        if (fenced) {
          String text = COMPOSE_PREFIX.matcher(l).replaceFirst("").stripTrailing();
          out.add(new Sample(HOME.relativize(f).toString(), i + 1, text));
        }
      }
    }
    return out;
  }

  @Test
  void everyAnswerLineIsOneTheWatchPrints() throws IOException {
    int checked = 0;
    for (Sample s : samples()) {
      if (!s.text().matches("^#\\d+ .*")) {
        continue;
      }
      Matcher f = FAILED.matcher(s.text());
      if (f.matches()) {
        assertThat(s.text())
            .as("%s, as the watch prints it", s.where())
            .isEqualTo(
                String.format(
                    WatchCommand.FAILED_ROW, f.group(1), f.group(2), f.group(3), f.group(4)));
        checked++;
        continue;
      }
      Matcher m = ANSWER.matcher(s.text());
      assertThat(m.matches()).as("%s is not an answer line: %s", s.where(), s.text()).isTrue();
      String printed =
          String.format(
                  WatchCommand.ROW,
                  m.group(1),
                  m.group(2),
                  m.group(3),
                  m.group(4),
                  m.group(5),
                  m.group(6),
                  Integer.parseInt(m.group(7)),
                  m.group(8),
                  m.group(9))
              + m.group(10);
      assertThat(s.text()).as("%s, as the watch prints it", s.where()).isEqualTo(printed);
      checked++;
    }
    assertThat(checked).as("answer lines found").isGreaterThanOrEqualTo(10);
  }

  @Test
  void everySummaryAndVerdictHasTheWatchsWords() throws IOException {
    int intervals = 0;
    int verdicts = 0;
    for (Sample s : samples()) {
      if (s.text().matches("^-- \\d\\d:\\d\\d:\\d\\d .*")) {
        assertShape(s, WatchCommand.INTERVAL);
        intervals++;
      } else if (s.text().startsWith("== PASS") || s.text().startsWith("== FAIL")) {
        assertShape(s, WatchCommand.FINAL);
        verdicts++;
      }
    }
    assertThat(intervals).as("5-second summaries found").isGreaterThanOrEqualTo(2);
    assertThat(verdicts).as("verdicts found").isGreaterThanOrEqualTo(3);
  }

  /**
   * The sample matches the format section by section (" | " between sections), each a regular
   * expression made from the format: its words exactly, a number where it prints one.
   */
  private static void assertShape(Sample s, String format) {
    String[] want = format.split(" \\| ");
    String[] got = s.text().split(" \\| ");
    assertThat(got).as("%s: sections of %s", s.where(), s.text()).hasSameSizeAs(want);
    for (int i = 0; i < want.length; i++) {
      if (got[i].equals("...")) {
        continue; // left out on purpose
      }
      assertThat(got[i])
          .as("%s, section %d, as the watch prints it (%s)", s.where(), i + 1, want[i])
          .matches(regexOf(want[i]));
    }
  }

  /** "p50 %s ms" as a regular expression: the words quoted, the conversions as what they print. */
  static String regexOf(String format) {
    StringBuilder re = new StringBuilder();
    Matcher m = Pattern.compile("%(-?\\d*)(\\.\\d+)?([sdf%n])").matcher(format);
    int at = 0;
    while (m.find()) {
      re.append(Pattern.quote(format.substring(at, m.start())));
      switch (m.group(3)) {
        case "d" -> re.append("-?\\d+");
        case "f" ->
            re.append(
                m.group(2) == null || m.group(2).equals(".0")
                    ? "\\d+"
                    : "\\d+\\.\\d{" + m.group(2).substring(1) + "}");
        case "s" -> re.append(".+?");
        default -> re.append(Pattern.quote(m.group()));
      }
      at = m.end();
    }
    re.append(Pattern.quote(format.substring(at)));
    return re.toString();
  }

  @Test
  void everyStatusTableIsOneStatusPrints() throws IOException {
    List<Sample> all = samples();
    String codeHeader =
        StatusCommand.table(ClusterView.getDefaultInstance(), "x")
            .lines()
            .skip(1)
            .findFirst()
            .get();
    int tables = 0;
    for (int i = 0; i < all.size(); i++) {
      Sample header = all.get(i);
      if (!header.text().startsWith("NODE ")) {
        continue;
      }
      assertThat(words(header.text()))
          .as("%s: the columns status prints", header.where())
          .isEqualTo(words(codeHeader));
      Sample first = i > 0 ? all.get(i - 1) : null;
      Matcher fm = first == null ? null : STATUS_FIRST.matcher(first.text());
      List<Sample> rows = new ArrayList<>();
      for (int j = i + 1;
          j < all.size()
              && all.get(j).file().equals(header.file())
              && all.get(j).line() == header.line() + rows.size() + 1
              && !all.get(j).text().isBlank();
          j++) {
        rows.add(all.get(j));
      }
      checkTable(header, fm != null && fm.matches() ? fm : null, rows);
      tables++;
    }
    assertThat(tables).as("status tables found").isGreaterThanOrEqualTo(4);
  }

  /**
   * Rows shown without their table (a node's line picked out in a lab) have the columns of a row,
   * in order, with a reason and faults after them.
   */
  @Test
  void everyStatusRowOutsideATableHasTheColumns() throws IOException {
    List<Sample> all = samples();
    int rows = 0;
    for (int i = 0; i < all.size(); i++) {
      Sample s = all.get(i);
      if (!s.text().matches("^(node|pool)-\\d+ +(ALIVE|SUSPECT|DEAD|LEFT|QUARANTINED) .*")
          || inTable(all, i)) {
        continue;
      }
      assertThat(s.text())
          .as("%s, a status row", s.where())
          .matches(STATUS_ROW_HEAD.pattern().replace("\\s*$", "") + "  \\S.*  \\S.*");
      rows++;
    }
    assertThat(rows).as("rows outside tables found").isGreaterThanOrEqualTo(2);
  }

  /** Whether the line is a row under a NODE header, with no blank line between. */
  private static boolean inTable(List<Sample> all, int i) {
    for (int j = i - 1; j >= 0; j--) {
      Sample up = all.get(j);
      if (!up.file().equals(all.get(i).file()) || up.line() != all.get(i).line() - (i - j)) {
        return false;
      }
      if (up.text().startsWith("NODE ")) {
        return true;
      }
      if (up.text().isBlank()) {
        return false;
      }
    }
    return false;
  }

  private static void checkTable(Sample header, Matcher first, List<Sample> rows) {
    int why = header.text().indexOf("  WHY") + 2;
    int faults = header.text().indexOf("  FAULTS") + 2;
    ClusterView.Builder view = ClusterView.newBuilder();
    String address = "127.0.0.1:7001";
    if (first != null) {
      view.setCoordinatorId(first.group(1))
          .setDetector(
              DetectorSettings.newBuilder()
                  .setSuspectAfterMs(Long.parseLong(first.group(4)))
                  .setDeadAfterMs(Long.parseLong(first.group(5))));
      address = first.group(2);
    }
    for (Sample r : rows) {
      String t = r.text();
      assertThat(t.length()).as("%s reaches the FAULTS column", r.where()).isGreaterThan(faults);
      // the variable columns start where the header says, after two spaces
      assertThat(t.substring(why - 2, why + 1))
          .as("%s: WHY starts under WHY", r.where())
          .matches("  \\S");
      assertThat(t.substring(faults - 2, faults + 1))
          .as("%s: FAULTS starts under FAULTS", r.where())
          .matches("  \\S");
      Matcher m = STATUS_ROW_HEAD.matcher(t.substring(0, why - 2));
      assertThat(m.matches()).as("%s is not a status row: %s", r.where(), t).isTrue();
      view.addNodes(
          NodeView.newBuilder()
              .setNodeId(m.group(1))
              .setState(NodeState.valueOf(m.group(2)))
              .setAddress(m.group(3))
              .setLastHeartbeatAgeMs(millis(m.group(4)))
              .setLoad(
                  Load.newBuilder()
                      .setInFlight(Integer.parseInt(m.group(5)))
                      .setCapacity(Integer.parseInt(m.group(6))))
              .setAnswers(Long.parseLong(m.group(7)))
              .setFailedAttempts(Long.parseLong(m.group(8)))
              .setRecentExtraMs(Double.parseDouble(m.group(9)))
              .setSinceTransitionMs(millis(m.group(10)))
              .setLastTransitionReason(t.substring(why, faults).strip()));
    }
    List<String> printed = StatusCommand.table(view.build(), address).lines().toList();
    if (first != null) {
      // (a sample may show some of the rows: the count is the sample's)
      String upToRedundancy =
          printed
              .get(0)
              .substring(0, printed.get(0).indexOf("redundancy: "))
              .replaceFirst(": \\d+ nodes;", ": " + first.group(3) + " nodes;");
      assertThat(first.group())
          .as("the line above %s, as status prints it", header.where())
          .startsWith(upToRedundancy);
    }
    int printedFaults = printed.get(1).indexOf("  FAULTS") + 2;
    for (int k = 0; k < rows.size(); k++) {
      assertThat(words(rows.get(k).text().substring(0, faults)))
          .as("%s, as status prints it", rows.get(k).where())
          .isEqualTo(words(printed.get(k + 2).substring(0, printedFaults)));
    }
  }

  /** "65 ms", "27.6 s", "12 min" as status prints ages. */
  private static long millis(String age) {
    String[] p = age.split(" ");
    return switch (p[1]) {
      case "ms" -> Long.parseLong(p[0]);
      case "s" -> Math.round(Double.parseDouble(p[0]) * 1000);
      default -> Long.parseLong(p[0]) * 60_000;
    };
  }

  private static String words(String s) {
    return s.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
  }
}
