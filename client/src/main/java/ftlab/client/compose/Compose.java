package ftlab.client.compose;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The compose lab, driven as a person drives it: {@code docker compose} (or the older {@code
 * docker-compose}) and {@code docker}, run as processes in the current folder, each bounded in
 * time; their output is returned, or their failure thrown with it.
 */
public final class Compose {
  private final List<String> command;
  private final Map<String, String> environment;

  private Compose(List<String> command, Map<String, String> environment) {
    this.command = List.copyOf(command);
    this.environment = Map.copyOf(environment);
  }

  /**
   * The compose command: {@code given} as typed ("docker-compose -p lab --env-file lab.env"), or,
   * if blank, the first of {@code docker compose} and {@code docker-compose} that answers.
   */
  public static Compose find(String given) throws InterruptedException {
    List<List<String>> candidates =
        given != null && !given.isBlank()
            ? List.of(Arrays.asList(given.trim().split("\\s+")))
            : List.of(List.of("docker", "compose"), List.of("docker-compose"));
    List<String> tried = new ArrayList<>();
    for (List<String> c : candidates) {
      List<String> version =
          new ArrayList<>(c.subList(0, c.size() > 1 && c.get(0).equals("docker") ? 2 : 1));
      version.add("version");
      try {
        exec(Duration.ofSeconds(30), version);
        return new Compose(c, Map.of());
      } catch (IllegalStateException e) {
        tried.add(String.join(" ", c) + " (" + e.getMessage() + ")");
      }
    }
    throw new IllegalStateException(
        "no Docker compose found: tried "
            + String.join("; ", tried)
            + ". Install Docker with compose, or give the command with --compose");
  }

  /**
   * This compose command for a project of its own, as a benchmark runs its own lab: {@code -p
   * PROJECT -f FILE} added to it, and {@code environment} (the compose file's variables: ports,
   * network, capacity) set for every command it runs, over this process's own.
   */
  public Compose forProject(String project, Path file, Map<String, String> environment) {
    List<String> c = new ArrayList<>(command);
    c.addAll(List.of("-p", project, "-f", file.toString()));
    Map<String, String> env = new HashMap<>(this.environment);
    env.putAll(environment);
    return new Compose(c, env);
  }

  /** The command, as typed: "docker compose", "docker-compose -p lab". */
  public String describe() {
    return String.join(" ", command);
  }

  /** {@code COMPOSE ARGS...}, to its end within {@code timeout}; its output. */
  public String run(Duration timeout, String... args) throws InterruptedException {
    List<String> cmd = new ArrayList<>(command);
    cmd.addAll(List.of(args));
    return exec(timeout, cmd, environment);
  }

  /** {@code docker ARGS...}, to its end within {@code timeout}; its output. */
  public static String docker(Duration timeout, String... args) throws InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("docker");
    cmd.addAll(List.of(args));
    return exec(timeout, cmd);
  }

  /**
   * The ids of a service's containers ({@code ps -a -q SERVICE}), running or not; none if unknown.
   */
  public List<String> containers(String service) throws InterruptedException {
    try {
      return run(Duration.ofSeconds(30), "ps", "-a", "-q", service)
          .lines()
          .filter(l -> !l.isBlank())
          .map(String::trim)
          .toList();
    } catch (IllegalStateException e) {
      return List.of(); // compose v2 fails on a service it does not know; v1 prints nothing
    }
  }

  /** A container's state as Docker says it: running, paused, exited, restarting... */
  public static String status(String container) throws InterruptedException {
    return docker(Duration.ofSeconds(30), "inspect", "--format", "{{.State.Status}}", container)
        .trim();
  }

  /** The networks a container is connected to. */
  public static List<String> networks(String container) throws InterruptedException {
    String out =
        docker(
            Duration.ofSeconds(30),
            "inspect",
            "--format",
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}",
            container);
    return Arrays.stream(out.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
  }

  /** Runs a command to its end; returns its output, or throws with its output if it failed. */
  static String exec(Duration timeout, List<String> cmd) throws InterruptedException {
    return exec(timeout, cmd, Map.of());
  }

  private static String exec(Duration timeout, List<String> cmd, Map<String, String> environment)
      throws InterruptedException {
    Path out = null;
    try {
      out = Files.createTempFile("ftlab-compose", ".txt");
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().putAll(environment);
      Process p = pb.redirectOutput(out.toFile()).start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            String.join(" ", cmd)
                + " did not finish within "
                + (timeout.toMillis() < 1_000
                    ? timeout.toMillis() + " ms"
                    : timeout.toSeconds() + " s"));
      }
      String output = Files.readString(out, StandardCharsets.UTF_8);
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + output.trim());
      }
      return output;
    } catch (IOException e) {
      throw new IllegalStateException(
          String.join(" ", cmd) + " could not be run: " + e.getMessage(), e);
    } finally {
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException e) {
          // a temporary file left behind
        }
      }
    }
  }
}
