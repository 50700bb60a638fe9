package ftlab.bench;

import ftlab.client.compose.Compose;
import ftlab.client.local.Jars;
import ftlab.client.local.LocalLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A benchmark's own Docker lab: the checkout's {@code docker-compose.yml} in a compose project of
 * its own, with its own network and its coordinators' ports (gRPC and HTTP) on free loopback ports,
 * so that a lab the user has running (project, network {@code ftlab}, ports 7001-7002 and
 * 8001-8002) is not touched. Commands run as {@link Compose} runs them: processes, each bounded in
 * time; their output is returned, or their failure thrown with it.
 */
final class BenchLab {
  private final Compose compose;
  private final int port1;
  private final int port2;

  /**
   * The lab of compose project {@code project} (its network is named after it too), with {@code
   * settings} (FTLAB_CAPACITY, say) for the compose file's variables; {@code given}: the compose
   * command as typed with {@code --compose}, or null (or blank) for the first of {@code docker
   * compose} and {@code docker-compose} that answers.
   */
  BenchLab(String project, String given, Map<String, String> settings) throws Exception {
    Path home = Jars.home().toAbsolutePath().normalize();
    Path file = home.resolve("docker-compose.yml");
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException(
          "no docker-compose.yml in " + home + ": run this from the ftlab checkout");
    }
    port1 = LocalLayout.freePortBlock(4); // outside the ephemeral range: gRPC, gRPC, HTTP, HTTP
    port2 = port1 + 1;
    int http = port1 + 2;
    Map<String, String> env = new HashMap<>();
    env.put("FTLAB_COORDINATOR_1_PORT", "" + port1);
    env.put("FTLAB_COORDINATOR_2_PORT", "" + port2);
    env.put("FTLAB_COORDINATOR_1_HTTP_PORT", "" + http);
    env.put("FTLAB_COORDINATOR_2_HTTP_PORT", "" + (http + 1));
    env.put("FTLAB_NETWORK", project);
    env.putAll(settings);
    compose = Compose.find(given).forProject(project, file, env);
  }

  /** The coordinators' published gRPC addresses, coordinator-1 first. */
  List<String> coordinatorAddresses() {
    return List.of("127.0.0.1:" + port1, "127.0.0.1:" + port2);
  }

  /** The compose command with its project and file: "docker-compose -p ftlab-bench -f ...". */
  String describe() {
    return compose.describe();
  }

  /**
   * {@code COMPOSE ARGS...}, the compose command with its project, file and variables, to its end
   * within {@code timeout}; its output.
   */
  String compose(Duration timeout, String... args) throws InterruptedException {
    return compose.run(timeout, args);
  }

  /**
   * Stops and removes the lab: its containers (the pool's too: Compose v2 leaves a profile's
   * containers unless it is named), network and volumes.
   */
  void down() throws InterruptedException {
    compose(Duration.ofMinutes(1), "--profile", "pool", "down", "-v", "--remove-orphans");
  }

  /**
   * The ids of a service's running containers ({@code ps -q}, the pool's profile named so that
   * Compose v2 lists them); only what looks like an id is kept from the output, which may hold
   * Compose's warnings.
   */
  List<String> containers(String service) throws InterruptedException {
    List<String> ids = new ArrayList<>();
    for (String word :
        compose(Duration.ofSeconds(30), "--profile", "pool", "ps", "-q", service).split("\\s+")) {
      if (word.matches("[0-9a-f]{12,64}")) {
        ids.add(word);
      }
    }
    return ids;
  }

  /**
   * The host's process ids of a running container's processes: its init (the compose file runs
   * every service with one) and everything under it, the JVM among them. Empty if it is not
   * running. Read from {@code /proc}, where Docker's processes show with their host ids.
   */
  List<Long> processes(String container) throws InterruptedException {
    String[] pidAndId =
        Compose.docker(
                Duration.ofSeconds(30), "inspect", "--format", "{{.State.Pid}} {{.Id}}", container)
            .trim()
            .split("\\s+");
    long init = Long.parseLong(pidAndId[0]);
    List<Long> out = new ArrayList<>();
    if (init <= 0) {
      return out; // not running
    }
    String cgroup;
    try {
      cgroup = Files.readString(Path.of("/proc", "" + init, "cgroup"));
    } catch (IOException e) {
      cgroup = "";
    }
    if (!cgroup.contains(pidAndId[1])) {
      throw new IllegalStateException(
          "process "
              + init
              + " of this machine is not container "
              + container
              + "'s: its processes are not visible here (Docker in a VM, or this bench in a"
              + " container?); run the bench where the Docker engine runs");
    }
    descendants(init, out);
    if (out.size() < 2) {
      throw new IllegalStateException(
          "found no process under container "
              + container
              + "'s init ("
              + init
              + ") in /proc/"
              + init
              + "/task/"
              + init
              + "/children: cannot measure its JVM's CPU");
    }
    return out;
  }

  private static void descendants(long pid, List<Long> out) {
    out.add(pid);
    Path children = Path.of("/proc", "" + pid, "task", "" + pid, "children");
    try {
      for (String c : Files.readString(children).trim().split("\\s+")) {
        if (!c.isEmpty()) {
          descendants(Long.parseLong(c), out);
        }
      }
    } catch (IOException e) {
      // the process has just ended: nothing under it to count
    }
  }

  /**
   * The host's {@code docker-proxy} processes that forward this lab's published gRPC ports (none
   * when the engine forwards them in the kernel, {@code "userland-proxy": false}).
   */
  List<Long> proxies() {
    List<Long> out = new ArrayList<>();
    List<String> ports = List.of("" + port1, "" + port2);
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.toList()) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          List<String> args = Arrays.asList(Files.readString(p.resolve("cmdline")).split("\u0000"));
          int at = args.indexOf("-host-port");
          if (!args.isEmpty()
              && args.get(0).endsWith("docker-proxy")
              && at >= 0
              && at + 1 < args.size()
              && ports.contains(args.get(at + 1))) {
            out.add(Long.parseLong(name));
          }
        } catch (IOException e) {
          // ended meanwhile, or not ours to read
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot list /proc: " + e.getMessage(), e);
    }
    return out;
  }
}
