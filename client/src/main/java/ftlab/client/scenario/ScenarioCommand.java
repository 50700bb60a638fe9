package ftlab.client.scenario;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code ftlab scenario}: fault stories from a file, with a verdict. */
@Command(
    name = "scenario",
    mixinStandardHelpOptions = true,
    description = {
      "Fault stories from a YAML file: a cluster, a checked load, a timeline of faults at fixed"
          + " times, and expectations checked against the recorded history (docs/scenarios.md)."
    },
    subcommands = {
      ScenarioCommand.Run.class,
      ScenarioCommand.Validate.class,
      ScenarioCommand.Check.class
    })
public final class ScenarioCommand implements Callable<Integer> {

  @Override
  public Integer call() {
    System.out.println(
        "ftlab scenario run FILE | validate FILE | check HISTORY (ftlab scenario --help)");
    return 2;
  }

  /** Prints every mistake of a file, then their count; returns the exit code of a bad file. */
  static int mistakes(String what, ScenarioFile.Invalid e) {
    e.errors().forEach(System.err::println);
    System.err.printf(
        "%s: %d mistake%s%n", what, e.errors().size(), e.errors().size() == 1 ? "" : "s");
    return 2;
  }

  /** Reads a file as a scenario, or every mistake in it. */
  static Scenario read(Path file) throws IOException, ScenarioFile.Invalid {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IOException(file + " does not exist", e);
    }
    return ScenarioFile.parse(file.toString(), text);
  }

  @Command(
      name = "run",
      mixinStandardHelpOptions = true,
      description = {
        "Run a scenario: start its cluster (target: local: local processes on free ports) or"
            + " find the compose lab up (target: compose: from the checkout's folder, through"
            + " the coordinators' published ports), send the checked load, apply each action of"
            + " the timeline at its time and confirm it took effect, record the history, undo what"
            + " is left broken, stop the cluster it started (the compose lab stays up), and print"
            + " the verdict. Exit code 0 if every expectation is met, 1 if not, 2 for a bad file."
      })
  static final class Run implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "The scenario file (YAML).")
    Path file;

    @picocli.CommandLine.Option(
        names = "--history",
        description = "Where to write the history (JSON lines). Default: DIR/NAME-TIME.jsonl")
    Path historyFile;

    @picocli.CommandLine.Option(
        names = "--dir",
        description =
            "Where the run's cluster keeps its state and logs (DIR/NAME-TIME-cluster), and the"
                + " history goes by default. Default: ~/.ftlab/scenarios")
    Path dir;

    @picocli.CommandLine.Option(
        names = "--compose",
        description =
            "target: compose: the compose command, as you type it for this lab, e.g."
                + " \"docker-compose -p lab --env-file lab.env\" (env FTLAB_COMPOSE). Default: the"
                + " first of 'docker compose' and 'docker-compose' that works, in this folder.")
    String composeCommand;

    @picocli.CommandLine.Option(
        names = {"-c", "--coordinators"},
        split = ",",
        paramLabel = "HOST:PORT",
        description =
            "target: compose: the coordinators' published ports. Default:"
                + " 127.0.0.1:7001,127.0.0.1:7002, or FTLAB_COORDINATOR_1_PORT and"
                + " FTLAB_COORDINATOR_2_PORT from the environment (a .env file is not read).")
    java.util.List<String> coordinators;

    @Override
    public Integer call() throws Exception {
      Scenario s;
      try {
        s = read(file);
      } catch (ScenarioFile.Invalid e) {
        return mistakes(file.toString(), e);
      }
      String stamp =
          java.time.LocalDateTime.now()
              .format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
      String slug = s.name().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-");
      Path home =
          dir != null ? dir : Path.of(System.getProperty("user.home"), ".ftlab", "scenarios");
      Path history =
          historyFile != null ? historyFile : home.resolve(slug + "-" + stamp + ".jsonl");
      Path stateDir = home.resolve(slug + "-" + stamp + "-cluster");
      System.out.print(plan(file.toString(), s));
      ftlab.client.compose.Compose compose =
          s.target() == Scenario.Target.COMPOSE ? composeLab(composeCommand) : null;
      return execute(
          s,
          file.toString(),
          history,
          (w, say) ->
              s.target() == Scenario.Target.LOCAL
                  ? new LocalScenarioRun(
                      s,
                      new ftlab.client.local.LocalCluster(
                          stateDir, ftlab.client.local.Jars.locate()),
                      w,
                      say)
                  : new ComposeScenarioRun(s, compose, composeAddresses(coordinators), w, say));
    }
  }

  /** The compose command: as given (--compose), or FTLAB_COMPOSE, or the first that works. */
  static ftlab.client.compose.Compose composeLab(String given) throws InterruptedException {
    return ftlab.client.compose.Compose.find(
        given != null ? given : System.getenv("FTLAB_COMPOSE"));
  }

  /**
   * The compose lab's coordinators: as given, or at their published ports (FTLAB_COORDINATOR_1_PORT
   * and FTLAB_COORDINATOR_2_PORT from the environment, or 7001 and 7002) on this machine.
   */
  static java.util.List<String> composeAddresses(java.util.List<String> given) {
    return given != null && !given.isEmpty()
        ? given
        : java.util.List.of(
            "127.0.0.1:" + envOr("FTLAB_COORDINATOR_1_PORT", "7001"),
            "127.0.0.1:" + envOr("FTLAB_COORDINATOR_2_PORT", "7002"));
  }

  /**
   * Runs a scenario whose plan was printed: records its history, prints the verdict and writes the
   * report beside the history; returns 0 if every expectation is met, 1 if not.
   */
  static int execute(
      Scenario s,
      String source,
      Path history,
      java.util.function.BiFunction<
              History.Writer, java.util.function.Consumer<String>, ScenarioRun>
          runFor)
      throws IOException, InterruptedException {
    Files.createDirectories(history.toAbsolutePath().getParent());
    Checker.Report report;
    java.util.function.Consumer<String> say = line -> System.out.println("[scenario] " + line);
    try (History.Writer w = new History.Writer(history, source, s.text())) {
      report = runFor.apply(w, say).run();
    }
    System.out.print(verdict(s, source, report));
    System.out.println(
        "history: " + history + "  (ftlab scenario check " + history + " checks it again)");
    System.out.println(
        ScenarioReport.writeBeside(history, s, source, History.read(history).events(), report));
    return report.passed() ? 0 : 1;
  }

  private static String envOr(String name, String otherwise) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? otherwise : v.trim();
  }

  @Command(
      name = "validate",
      mixinStandardHelpOptions = true,
      description = {
        "Check a scenario file and print its plan: the cluster, the load, each action at its time,"
            + " and what is expected. Exit code 0 if it is valid, 2 with every mistake (by line)"
            + " if not."
      })
  static final class Validate implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "The scenario file (YAML).")
    Path file;

    @Override
    public Integer call() throws IOException {
      Scenario s;
      try {
        s = read(file);
      } catch (ScenarioFile.Invalid e) {
        return mistakes(file.toString(), e);
      }
      System.out.print(plan(file.toString(), s));
      return 0;
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = {
        "Check a recorded history (JSON lines, written by a scenario's run) against its"
            + " scenario's expectations again, and print the verdict: each expectation met or"
            + " missed with its figures. Exit code 0 if all are met, 1 if any is missed."
      })
  static final class Check implements Callable<Integer> {
    @Parameters(paramLabel = "HISTORY", description = "The history file (.jsonl).")
    Path history;

    @picocli.CommandLine.Option(
        names = "--report",
        description =
            "Also write the report next to the history: NAME.html (self-contained) and NAME.png"
                + " (the chart).")
    boolean report;

    @Override
    public Integer call() throws IOException {
      History.Read read = History.read(history);
      Scenario s;
      try {
        s = ScenarioFile.parse(read.header().source(), read.header().text());
      } catch (ScenarioFile.Invalid e) {
        return mistakes(history + "'s scenario", e);
      }
      Checker.Report verdict = Checker.check(s, read.events());
      System.out.print(verdict(s, read.header().source(), verdict));
      if (report) {
        System.out.println(
            ScenarioReport.writeBeside(history, s, read.header().source(), read.events(), verdict));
      }
      return verdict.passed() ? 0 : 1;
    }
  }

  /** The plan of a valid scenario, as {@code validate} prints it. */
  static String plan(String source, Scenario s) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "%s: \"%s\": %s; load %s, %d in flight, task %s, %s; %s%n",
            source,
            s.name(),
            s.target() == Scenario.Target.LOCAL
                ? String.format(
                    "a local cluster it starts, %d coordinator%s and %d node%s%s",
                    s.coordinators(),
                    s.coordinators() == 1 ? "" : "s",
                    s.nodes(),
                    s.nodes() == 1 ? "" : "s",
                    s.tls() ? ", with mutual TLS" : "")
                : "the compose lab, already up",
            s.load().rate() > 0 ? trim(s.load().rate()) + " requests/s" : "as fast as it can",
            s.load().concurrency(),
            s.load().task(),
            s.load().mode().map(m -> "mode " + m).orElse("each coordinator's own mode"),
            Durations.words(s.duration())));
    if (!s.description().isEmpty()) {
      out.append("  ").append(s.description().replace("\n", "\n  ").strip()).append('\n');
    }
    s.picks()
        .forEach(
            (any, member) ->
                out.append(
                    String.format(
                        Locale.ROOT,
                        "  %s: %s (chosen with seed %d; another seed may choose another)%n",
                        any,
                        member,
                        s.seed())));
    for (Scenario.Action a : s.timeline()) {
      boolean own =
          a.name().equals(a.verb().word() + (a.target().isEmpty() ? "" : " " + a.target()));
      out.append(
          String.format(
              Locale.ROOT,
              "  at %-8s %s%s%n",
              Durations.words(a.at()),
              a.describe(),
              own ? "" : "   (" + a.name() + ")"));
    }
    if (s.timeline().isEmpty()) {
      out.append("  no actions: the load alone\n");
    }
    out.append("expects:\n");
    for (Scenario.Expectation x : s.expectations()) {
      out.append("  ").append(x.describe()).append('\n');
    }
    if (s.expectations().isEmpty()) {
      out.append("  nothing: every run passes (add expect: - failed: 0)\n");
    }
    return out.toString();
  }

  /** The verdict's screen, as {@code check} (and the runner) print it. */
  static String verdict(Scenario s, String source, Checker.Report r) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "scenario \"%s\" (%s): %d requests, %d ok, %d failed, %d wrong%n",
            s.name(),
            source,
            r.requests(),
            r.ok(),
            r.failed(),
            r.wrong()));
    int width = 10;
    for (Checker.Verdict v : r.verdicts()) {
      width = Math.max(width, v.expectation().describe().length());
    }
    long missed = 0;
    for (Checker.Verdict v : r.verdicts()) {
      missed += v.met() ? 0 : 1;
      out.append(
          String.format(
              Locale.ROOT,
              "  %-6s  %-" + width + "s  %s%n",
              v.met() ? "met" : "MISSED",
              v.expectation().describe(),
              v.figures()));
    }
    out.append(
        r.passed()
            ? String.format(
                Locale.ROOT, "verdict: PASS (%d expectations met)%n", r.verdicts().size())
            : String.format(
                Locale.ROOT,
                "verdict: FAIL (%d of %d expectations missed)%n",
                missed,
                r.verdicts().size()));
    return out.toString();
  }

  private static String trim(double v) {
    return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
  }
}
