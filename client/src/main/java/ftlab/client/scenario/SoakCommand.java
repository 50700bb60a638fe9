package ftlab.client.scenario;

import ftlab.client.DurationConverter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ftlab soak}: random faults for a long while, under a checked load, with a verdict. */
@Command(
    name = "soak",
    mixinStandardHelpOptions = true,
    description = {
      "A chaos soak: start a local cluster (or use the compose lab, already up: --target"
          + " compose), send a checked load for the whole run while random faults come and go"
          + " (kill, restart, crash, pause, freeze, slow, lie, a coordinator killed or paused;"
          + " on the compose lab a node or a coordinator cut off the network too), chosen from a"
          + " seed and always"
          + " leaving a vote of 3 and a"
          + " coordinator that work; the coordinators switch between failover and vote mode in"
          + " turn. Then the verdict on the whole history: nothing lost, failed or wrong, no"
          + " healthy node declared DEAD (false suspicions counted), every process's memory and"
          + " threads flat, every node ALIVE at the end. The soak is written as a scenario file"
          + " beside the history: ftlab scenario run FILE runs the same soak again. Exit code 0"
          + " if the verdict is PASS, 1 if not, 2 for bad options."
    })
public final class SoakCommand implements Callable<Integer> {

  @Option(
      names = "--duration",
      converter = DurationConverter.class,
      description = "How long the load and the faults run (1m to 4h). Default: ${DEFAULT-VALUE}",
      defaultValue = "10m")
  Duration duration;

  @Option(
      names = "--seed",
      description =
          "Chooses the faults: the same seed, the same soak. Default: a new one, printed first.")
  Long seed;

  @Option(
      names = "--target",
      description =
          "local: a cluster of local processes the soak starts and stops; compose: the compose"
              + " lab, already up (docker compose up -d), its containers stopped, killed,"
              + " paused and cut off the network. Default: ${DEFAULT-VALUE}",
      defaultValue = "local")
  String target;

  @Option(
      names = "--nodes",
      description =
          "Nodes in a local cluster (at least 4). Default: 5 (the compose lab has 5, fixed)")
  Integer nodes;

  @Option(
      names = "--coordinators",
      description = "Coordinators in a local cluster. Default: 2 (the compose lab has 2, fixed)")
  Integer coordinators;

  /** A local soak's cluster unless told: the compose lab's size, so the two compare. */
  private static final int LOCAL_NODES = 5;

  private static final int LOCAL_COORDINATORS = 2;

  @Option(
      names = "--compose",
      description =
          "--target compose: the compose command, as you type it for this lab, e.g."
              + " \"docker-compose -p lab --env-file lab.env\" (env FTLAB_COMPOSE). Default: the"
              + " first of 'docker compose' and 'docker-compose' that works, in this folder.")
  String composeCommand;

  @Option(
      names = "--coordinator-addresses",
      split = ",",
      paramLabel = "HOST:PORT",
      description =
          "--target compose: the coordinators' published ports. Default:"
              + " 127.0.0.1:7001,127.0.0.1:7002, or FTLAB_COORDINATOR_1_PORT and"
              + " FTLAB_COORDINATOR_2_PORT from the environment (a .env file is not read).")
  java.util.List<String> coordinatorAddresses;

  @Option(
      names = "--rate",
      description = "Requests per second of the checked load. Default: ${DEFAULT-VALUE}",
      defaultValue = "20")
  double rate;

  @Option(
      names = "--dir",
      description =
          "Where the soak's file, history, report and cluster state go. Default:"
              + " ~/.ftlab/scenarios")
  Path dir;

  @Option(
      names = "--plan-only",
      description = "Write the soak's scenario file and print its plan, without running it.")
  boolean planOnly;

  @Override
  public Integer call() throws Exception {
    if (!(rate > 0 && rate <= 1000)) {
      System.err.println("--rate must be above 0 and at most 1000 requests/s, got " + rate);
      return 2;
    }
    Scenario.Target where;
    switch (target.toLowerCase(java.util.Locale.ROOT)) {
      case "local" -> where = Scenario.Target.LOCAL;
      case "compose" -> where = Scenario.Target.COMPOSE;
      default -> {
        System.err.println(
            "--target is local (a cluster the soak starts) or compose (the lab, already up), got "
                + target);
        return 2;
      }
    }
    boolean compose = where == Scenario.Target.COMPOSE;
    if (!compose && (composeCommand != null || coordinatorAddresses != null)) {
      System.err.println(
          "--compose and --coordinator-addresses are for --target compose (the lab, already up)");
      return 2;
    }
    long chosen = seed != null ? seed : System.currentTimeMillis() % 100_000;
    SoakPlan.Settings settings;
    try {
      settings =
          new SoakPlan.Settings(
              where,
              chosen,
              duration,
              nodes != null ? nodes : compose ? ScenarioFile.COMPOSE_NODES : LOCAL_NODES,
              coordinators != null
                  ? coordinators
                  : compose ? ScenarioFile.COMPOSE_COORDINATORS : LOCAL_COORDINATORS,
              rate,
              4);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      return 2;
    }
    String yaml = SoakPlan.yaml(settings);
    Path home = dir != null ? dir : Path.of(System.getProperty("user.home"), ".ftlab", "scenarios");
    String stamp =
        java.time.LocalDateTime.now()
            .format(java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    String base = "soak-" + chosen + "-" + stamp;
    Files.createDirectories(home);
    Path file = home.resolve(base + ".yaml");
    Files.writeString(file, yaml, StandardCharsets.UTF_8);
    Scenario s;
    try {
      s = ScenarioFile.parse(file.toString(), yaml);
    } catch (ScenarioFile.Invalid e) { // a bug of the plan's: say it as it is
      return ScenarioCommand.mistakes(file + " (written by ftlab soak)", e);
    }
    java.util.List<SoakPlan.Fault> faults = SoakPlan.faults(settings);
    System.out.printf(
        "soak: seed %d (--seed %d runs the same faults again), %s, %d faults: %s%n"
            + "soak: the timeline is in %s%n",
        chosen, chosen, Durations.words(duration), faults.size(), SoakPlan.counts(faults), file);
    if (planOnly) {
      System.out.print(ScenarioCommand.plan(file.toString(), s));
      return 0;
    }
    Path history = home.resolve(base + ".jsonl");
    if (compose) {
      ftlab.client.compose.Compose lab = ScenarioCommand.composeLab(composeCommand);
      java.util.List<String> at = ScenarioCommand.composeAddresses(coordinatorAddresses);
      return ScenarioCommand.execute(
          s, file.toString(), history, (w, say) -> new ComposeScenarioRun(s, lab, at, w, say));
    }
    Path stateDir = home.resolve(base + "-cluster");
    return ScenarioCommand.execute(
        s,
        file.toString(),
        history,
        (w, say) ->
            new LocalScenarioRun(
                s,
                new ftlab.client.local.LocalCluster(stateDir, ftlab.client.local.Jars.locate()),
                w,
                say));
  }
}
