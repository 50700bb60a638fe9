package ftlab.bench;

import ftlab.client.Poll;
import ftlab.client.compose.Compose;
import ftlab.proto.NodeState;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The Docker lab's own figures, on the real {@code docker-compose.yml}: image size, time from
 * {@code docker compose up} to the client's first answer, memory per container under load, and time
 * to detect {@code docker kill}, {@code pause} and {@code stop} of a node container.
 */
@Command(
    name = "docker",
    mixinStandardHelpOptions = true,
    description = {
      "Measure the Docker lab: the image's size; the time from 'docker compose up' (image built)"
          + " to the client container's first answer; memory per container under load (docker"
          + " stats); and, under steady load, the time from 'docker kill', 'docker pause' and"
          + " 'docker stop' of a node container to DEAD or LEFT at each coordinator.",
      "Runs its own compose project (ftlab-bench) with the coordinators on free loopback ports,"
          + " so a lab you have running is not touched. Needs Docker with compose; builds the image"
          + " first (set FTLAB_BUILD_IMAGE and FTLAB_RUNTIME_IMAGE as for the lab if you have no"
          + " registry)."
    })
public final class DockerBench implements Callable<Integer> {
  private static final String PROJECT = "ftlab-bench";

  @Option(
      names = "--starts",
      defaultValue = "3",
      description = "Times to start the lab from nothing to time the first answer. Default: 3.")
  int starts;

  @Option(
      names = "--rounds",
      defaultValue = "3",
      description = "Faults of each kind (kill, pause, stop). Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(
      names = "--rate",
      defaultValue = "50",
      description =
          "Steady load from this process, requests per second, on top of the client container's."
              + " Default: ${DEFAULT-VALUE}.")
  double rate;

  @Option(
      names = "--compose",
      description =
          "The compose command: 'docker compose' or 'docker-compose'. Default: the first that"
              + " works.")
  String compose;

  private BenchLab lab;

  @Override
  public Integer call() throws Exception {
    if (starts < 1 || starts > 10) {
      throw new IllegalArgumentException("--starts must be between 1 and 10, got " + starts);
    }
    lab = new BenchLab(PROJECT, compose, Map.of());
    String image = Optional.ofNullable(System.getenv("FTLAB_IMAGE")).orElse("ftlab:latest");

    System.err.println("building the image with " + lab.describe() + " build");
    lab.compose(Duration.ofMinutes(15), "build");
    long imageBytes =
        Long.parseLong(
            Compose.docker(
                    Duration.ofSeconds(30), "image", "inspect", "--format", "{{.Size}}", image)
                .trim());

    List<Double> firstAnswers = new ArrayList<>();
    try {
      for (int i = 1; i <= starts; i++) {
        lab.down();
        Instant up = Instant.now();
        lab.compose(Duration.ofMinutes(2), "up", "-d");
        double ms = firstAnswerMillis(up);
        firstAnswers.add(ms);
        System.err.printf(Locale.ROOT, "start %d: first answer %.0f ms after up%n", i, ms);
      }
      Map<String, String> nodeContainers = new TreeMap<>();
      for (int i = 1; i <= 5; i++) {
        nodeContainers.put(
            "node-" + i, lab.compose(Duration.ofSeconds(30), "ps", "-q", "node-" + i).trim());
      }
      Map<String, Double> memory = new TreeMap<>();
      FailoverRounds measure =
          new FailoverRounds(
              lab.coordinatorAddresses(),
              List.of("coordinator-1", "coordinator-2"),
              new ArrayList<>(nodeContainers.keySet()),
              dockerFaults(nodeContainers),
              rounds,
              rate);

      System.out.printf(
          Locale.ROOT,
          "Docker lab (%s): image %s %.0f MiB%n%n",
          lab.describe(),
          image,
          imageBytes / 1048576.0);
      Collections.sort(firstAnswers);
      System.out.printf(
          Locale.ROOT,
          "From 'up' (image built) to the client's first answer, %d starts: median %.1f s (%s)%n%n",
          firstAnswers.size(),
          FailoverRounds.median(firstAnswers) / 1000,
          String.join(
              ", ",
              firstAnswers.stream()
                  .map(ms -> String.format(Locale.ROOT, "%.1f s", ms / 1000))
                  .toList()));
      measure.run(
          String.format(
              Locale.ROOT,
              "Failover in containers: %d faults of each kind, %.0f requests/s from the host plus"
                  + " the client container's, 5 nodes, 2 coordinators; detection = docker command"
                  + " to DEAD/LEFT at each coordinator",
              rounds,
              rate),
          () -> memory.putAll(memoryMiB()));
      System.out.println();
      System.out.println(
          "Memory under that load (docker stats, after 10 s of it; the limit is 192 MiB each):");
      System.out.println();
      System.out.println("| container | memory MiB |");
      System.out.println("|---|---:|");
      memory.forEach((name, mib) -> System.out.printf(Locale.ROOT, "| %s | %.1f |%n", name, mib));
    } finally {
      lab.down();
    }
    return 0;
  }

  /** {@code docker kill / pause / stop} on the node's container, and their undoing. */
  private List<Fault> dockerFaults(Map<String, String> containers) {
    Fault.Action start = n -> Compose.docker(Duration.ofSeconds(30), "start", containers.get(n));
    return List.of(
        new Fault(
            "docker kill",
            NodeState.DEAD,
            n -> Compose.docker(Duration.ofSeconds(30), "kill", containers.get(n)),
            start),
        new Fault(
            "docker pause",
            NodeState.DEAD,
            n -> Compose.docker(Duration.ofSeconds(30), "pause", containers.get(n)),
            n -> Compose.docker(Duration.ofSeconds(30), "unpause", containers.get(n))),
        new Fault(
            "docker stop",
            NodeState.LEFT,
            n -> Compose.docker(Duration.ofSeconds(30), "stop", containers.get(n)),
            start));
  }

  /**
   * When the client container printed its first verified answer, from the timestamps Docker keeps
   * for every log line, in milliseconds after {@code up}. Polls for at most 2 minutes.
   */
  private double firstAnswerMillis(Instant up) throws Exception {
    return Poll.until(
            Duration.ofMinutes(2),
            Duration.ofMillis(200),
            () -> {
              String logs;
              try {
                logs = lab.compose(Duration.ofSeconds(30), "logs", "-t", "--no-color", "client");
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while reading the client's log", e);
              }
              for (String line : logs.split("\n")) {
                if (line.contains(" verified ")) {
                  return Optional.of(Duration.between(up, timestampIn(line)).toNanos() / 1e6);
                }
              }
              return Optional.<Double>empty();
            })
        .orElseThrow(
            () ->
                new IllegalStateException(
                    "the client container printed no answer within 2 minutes"));
  }

  /** "client_1 | 2026-11-29T18:30:23.123456789Z #1 ..." -> that instant. */
  private static Instant timestampIn(String line) {
    for (String word : line.split("\\s+")) {
      if (word.length() > 20 && Character.isDigit(word.charAt(0)) && word.contains("T")) {
        try {
          return Instant.parse(word);
        } catch (DateTimeParseException e) {
          // not the timestamp; keep looking
        }
      }
    }
    throw new IllegalStateException("no timestamp in log line: " + line);
  }

  /** Memory use of every container of the project, by service name, from docker stats. */
  private Map<String, Double> memoryMiB() {
    Map<String, Double> out = new TreeMap<>();
    try {
      List<String> ids =
          Arrays.stream(lab.compose(Duration.ofSeconds(30), "ps", "-q").split("\\s+"))
              .filter(s -> !s.isBlank())
              .toList();
      List<String> cmd =
          new ArrayList<>(List.of("stats", "--no-stream", "--format", "{{.ID}} {{.MemUsage}}"));
      cmd.addAll(ids);
      for (String line :
          Compose.docker(Duration.ofSeconds(60), cmd.toArray(String[]::new)).split("\n")) {
        String[] parts = line.trim().split("\\s+");
        if (parts.length < 2) {
          continue;
        }
        String service =
            Compose.docker(
                    Duration.ofSeconds(30),
                    "inspect",
                    "--format",
                    "{{index .Config.Labels \"com.docker.compose.service\"}}",
                    parts[0])
                .trim();
        out.put(service, mib(parts[1]));
      }
    } catch (Exception e) {
      System.err.println("could not read docker stats: " + e.getMessage());
    }
    return out;
  }

  /** "45.2MiB" or "1.1GiB" or "900KiB" -> MiB. */
  static double mib(String size) {
    String s = size.trim();
    String number = s.replaceAll("[A-Za-z]+$", "");
    double v = Double.parseDouble(number);
    String unit = s.substring(number.length()).toLowerCase(Locale.ROOT);
    return switch (unit) {
      case "b" -> v / 1048576;
      case "kib", "kb" -> v / 1024;
      case "mib", "mb" -> v;
      case "gib", "gb" -> v * 1024;
      default -> throw new IllegalArgumentException("unknown size unit in '" + size + "'");
    };
  }
}
