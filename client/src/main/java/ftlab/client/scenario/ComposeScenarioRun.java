package ftlab.client.scenario;

import ftlab.client.Coordinators;
import ftlab.client.NodeAdmin;
import ftlab.client.Poll;
import ftlab.client.compose.Compose;
import ftlab.client.scenario.Scenario.Action;
import ftlab.proto.ClusterView;
import ftlab.proto.Faults;
import ftlab.proto.Redundancy;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A scenario on the compose lab, already up ({@code docker compose up -d}), from the host: the load
 * goes through the coordinators' published ports; actions are what a learner types on the members'
 * containers ({@code docker stop / kill / pause / unpause / start}, {@code docker network
 * disconnect / connect --alias}, {@code docker compose up -d --scale pool=N pool}), and the in-app
 * faults go to the node's admin port at its container's address ({@code docker compose exec client
 * ftlab chaos} where that cannot be reached); each is seen to take effect in Docker's own state of
 * the container or in the coordinators' views. A member's actions run in order, in a lane of their
 * own, beside the timeline. At the end, what the timeline left broken is undone (unpaused,
 * reconnected under its name, started, healed, the pool scaled back, the coordinators' mode
 * restored), and the lab stays up.
 */
final class ComposeScenarioRun extends ScenarioRun {
  private static final Duration DOCKER = Duration.ofSeconds(60);

  /** The port every node of the lab listens on inside its container (docker-compose.yml). */
  private static final int NODE_PORT = 7101;

  private final Compose compose;
  private final List<String> coordinatorAddresses;
  private final Set<String> paused = new LinkedHashSet<>();
  private final Set<String> down = new LinkedHashSet<>();
  private final Map<String, String> disconnected = new LinkedHashMap<>(); // service -> network
  private final Set<String> faulted = new LinkedHashSet<>();
  private final Map<String, String> containers = new java.util.HashMap<>();
  private volatile Integer poolBefore;
  private Redundancy modeBefore;

  ComposeScenarioRun(
      Scenario scenario,
      Compose compose,
      List<String> coordinatorAddresses,
      History.Writer history,
      Consumer<String> say) {
    super(scenario, history, say);
    this.compose = compose;
    this.coordinatorAddresses = List.copyOf(coordinatorAddresses);
  }

  @Override
  void checkTimeline() {
    Set<String> cut = new LinkedHashSet<>();
    for (Action a : scenario.timeline()) {
      if (a.verb() == Scenario.Verb.DISCONNECT) {
        cut.add(a.target());
      }
      if (a.verb() == Scenario.Verb.CONNECT && !cut.contains(a.target())) {
        throw new IllegalArgumentException(
            "line "
                + a.line()
                + ": connect "
                + a.target()
                + " needs a disconnect of it earlier in the timeline (that is where the network's"
                + " name comes from)");
      }
    }
  }

  @Override
  List<String> prepare() throws InterruptedException {
    Set<String> services = new LinkedHashSet<>();
    for (Action a : scenario.timeline()) {
      if (!a.target().isEmpty()) {
        services.add(a.target());
      }
    }
    StringBuilder ready = new StringBuilder("the compose lab (" + compose.describe() + ")");
    String separator = ":";
    for (String service : services) {
      List<String> ids = compose.containers(service);
      if (ids.isEmpty()) {
        throw new IllegalStateException(
            "the timeline acts on "
                + service
                + ", but the compose project has no container for it: is the lab up"
                + " ('docker compose up -d'), and is this the project (--compose \"docker compose -p"
                + " NAME\")?");
      }
      String id = ids.get(0);
      synchronized (containers) {
        containers.put(service, id);
      }
      ready.append(separator);
      separator = ",";
      ready.append(
          String.format(
              " %s (container %s, %s)",
              service, id.substring(0, Math.min(12, id.length())), Compose.status(id)));
    }
    ready.append("; coordinators at ").append(String.join(", ", coordinatorAddresses));
    say.accept(ready.toString());
    try (Coordinators c = new Coordinators(coordinatorAddresses, credentials())) {
      c.connect(Coordinators.CONNECT_FIRST);
      for (int i = 0; i < c.size() && modeBefore == null; i++) {
        Optional<ClusterView> v = view(c, i);
        if (v.isPresent()) {
          modeBefore = v.get().getRedundancy();
        }
      }
    }
    if (modeBefore == null) {
      throw new IllegalStateException(
          "no coordinator answers at "
              + String.join(", ", coordinatorAddresses)
              + ": is the lab up, and are these its published ports (-c)?");
    }
    return coordinatorAddresses;
  }

  @Override
  ChannelCredentials credentials() {
    return InsecureChannelCredentials.create();
  }

  /**
   * The docker command runs beside the timeline, with the wait for its effect: a {@code docker
   * compose up --scale} that takes 15 s on a busy machine must not hold up the actions after it.
   */
  @Override
  Confirmation perform(Action a, Coordinators coordinators) {
    // one lane per member (the pool's scale actions share one): a member's actions run in the
    // timeline's order, each after the one before has been seen to take effect (a start waits for
    // the stop's drain); different members' run side by side
    String lane = a.target().isEmpty() ? "(pool)" : a.target();
    java.util.concurrent.ExecutorService executor =
        lanes.computeIfAbsent(
            lane,
            l ->
                java.util.concurrent.Executors.newSingleThreadExecutor(
                    r -> {
                      Thread t = new Thread(r, "scenario-" + l);
                      t.setDaemon(true);
                      return t;
                    }));
    java.util.concurrent.Future<Optional<String>> done =
        executor.submit(() -> doAndSee(a, coordinators));
    return () -> {
      try {
        return done.get();
      } catch (java.util.concurrent.ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r
            ? r
            : new IllegalStateException(e.getCause().toString(), e.getCause());
      }
    };
  }

  private final Map<String, java.util.concurrent.ExecutorService> lanes =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** Does the action and waits for its effect: what showed it, or empty. */
  private Optional<String> doAndSee(Action a, Coordinators coordinators)
      throws InterruptedException {
    String service = a.target();
    switch (a.verb()) {
      case STOP, KILL -> {
        synchronized (this) { // noted first: a command cut short may still have acted
          down.add(service);
        }
        Compose.docker(DOCKER, a.verb().word(), container(service));
        return state(service, "exited");
      }
      case PAUSE -> {
        synchronized (this) {
          paused.add(service);
        }
        pause(service);
        return state(service, "paused");
      }
      case UNPAUSE -> {
        Compose.docker(DOCKER, "unpause", container(service));
        synchronized (this) {
          paused.remove(service);
        }
        return state(service, "running");
      }
      case START -> {
        Compose.docker(DOCKER, "start", container(service));
        synchronized (this) {
          down.remove(service);
        }
        return state(service, "running");
      }
      case DISCONNECT -> {
        String container = container(service);
        List<String> networks = Compose.networks(container);
        if (networks.isEmpty()) {
          throw new IllegalStateException(service + " is on no network");
        }
        String network = networks.get(0);
        synchronized (this) {
          disconnected.put(service, network);
        }
        Compose.docker(DOCKER, "network", "disconnect", network, container);
        return onNetwork(service, container, network, false);
      }
      case CONNECT -> {
        String container = container(service);
        String network;
        synchronized (this) {
          network = disconnected.get(service);
        }
        if (network == null) {
          throw new IllegalStateException(service + " was not disconnected by this scenario");
        }
        // under its name, or the others cannot call it (the README's Lab 1b)
        Compose.docker(DOCKER, "network", "connect", "--alias", service, network, container);
        synchronized (this) {
          disconnected.remove(service);
        }
        return onNetwork(service, container, network, true);
      }
      case FAULT -> {
        return fault(a, coordinators);
      }
      case HEAL -> {
        admin(service, admin -> admin.heal().getDescription(), "heal");
        synchronized (this) {
          faulted.remove(service);
        }
        return faultsSeen(coordinators, service, Faults.getDefaultInstance());
      }
      case SCALE -> {
        int n = Integer.parseInt(a.args().get("pool"));
        if (poolBefore == null) { // only the pool's lane sets it
          int before = running("pool");
          synchronized (this) {
            poolBefore = before;
          }
        }
        scalePool(n);
        return until(
            Duration.ofMillis(200),
            () ->
                running("pool") == n
                    ? Optional.of(n + " pool container" + (n == 1 ? "" : "s") + " running")
                    : Optional.empty());
      }
      default -> throw new IllegalArgumentException(a.verb().word() + " is not for this target");
    }
  }

  /**
   * {@code docker pause}, tried up to three times when the runtime says "unable to freeze": the
   * cgroup freezer gives up when a task does not stop in time, which happens now and then on a busy
   * machine (once in a ten-minute soak here); the container was left running, and trying again
   * works. Each failed try is said.
   */
  private void pause(String service) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        Compose.docker(DOCKER, "pause", container(service));
        return;
      } catch (IllegalStateException e) {
        if (attempt == 3 || !String.valueOf(e.getMessage()).contains("unable to freeze")) {
          throw e;
        }
        say.accept(
            "docker pause "
                + service
                + ": the runtime was unable to freeze it (try "
                + attempt
                + " of 3); trying again");
        Thread.sleep(500);
      }
    }
  }

  /** Does an in-app fault and waits for its effect. */
  private Optional<String> fault(Action a, Coordinators coordinators) throws InterruptedException {
    String kind = a.args().get("fault");
    String node = a.target();
    if (kind.equals("crash")) {
      admin(
          node,
          admin -> {
            admin.crash();
            return "";
          },
          "crash");
      synchronized (this) {
        down.add(node);
      }
      return state(node, "exited");
    }
    Faults faults = faults(a);
    List<String> args = new ArrayList<>();
    args.add(kind.equals("mute") ? "mute-heartbeats" : kind);
    if (kind.equals("slow")) { // as faults(a): 200 ms unless the file says
      args.add("--delay");
      args.add(a.args().getOrDefault("delay_ms", "200") + "ms");
    }
    if (a.args().containsKey("fraction")) {
      args.add("--fraction");
      args.add(a.args().get("fraction"));
    }
    String said =
        admin(node, admin -> admin.set(faults).getDescription(), args.toArray(String[]::new));
    synchronized (this) {
      faulted.add(node);
    }
    if (kind.equals("freeze") || kind.equals("mute")) {
      // its heartbeats stop: the coordinators cannot be told; the node's own word is the effect
      return Optional.of("the node reports: " + said);
    }
    return faultsSeen(coordinators, node, faults);
  }

  /** A call to a node's admin service (faults, heal, crash). */
  private interface AdminCall {
    String call(NodeAdmin admin);
  }

  private volatile boolean adminUnreachable;
  private volatile boolean adminReached;

  /**
   * Calls the node's admin service at its container's address on the lab's network (on Linux the
   * host reaches it; the node ports are not published); if the first such call cannot get through
   * (Docker Desktop's VM: refused or no answer), every fault goes through {@code docker compose
   * exec client ftlab chaos NODE CHAOS-ARGS...} instead, once said. Once a call got through, a
   * failure is the node's (it is down, frozen) and is not retried another way. Returns what the
   * node said.
   */
  private String admin(String node, AdminCall call, String... chaosArgs)
      throws InterruptedException {
    if (!adminUnreachable) {
      String address = nodeAddress(node);
      try (NodeAdmin admin = new NodeAdmin(address, InsecureChannelCredentials.create())) {
        String said = call.call(admin);
        adminReached = true;
        return said;
      } catch (StatusRuntimeException e) {
        io.grpc.Status.Code code = e.getStatus().getCode();
        if (adminReached
            || (code != io.grpc.Status.Code.UNAVAILABLE
                && code != io.grpc.Status.Code.DEADLINE_EXCEEDED)) {
          throw e;
        }
        adminUnreachable = true;
        say.accept(
            "the nodes' admin ports cannot be reached from here ("
                + address
                + ": "
                + Coordinators.explain(e)
                + "): the faults go through docker compose exec client ftlab chaos instead");
      }
    }
    return chaos(node, chaosArgs).lines().findFirst().orElse("").trim();
  }

  /** host:port of the node's admin service: its container's address, the port it listens on. */
  private String nodeAddress(String node) throws InterruptedException {
    String ips =
        Compose.docker(
                DOCKER,
                "inspect",
                "--format",
                "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                container(node))
            .trim();
    if (ips.isEmpty()) {
      throw new IllegalStateException(node + " has no address on a network (disconnected?)");
    }
    return ips.split("\\s+")[0] + ":" + NODE_PORT;
  }

  /** {@code up -d --scale pool=N pool}; --no-deps: a coordinator the timeline stopped stays so. */
  private String scalePool(int n) throws InterruptedException {
    return compose.run(
        Duration.ofMinutes(3),
        "up",
        "-d",
        "--no-build",
        "--no-deps",
        "--scale",
        "pool=" + n,
        "pool");
  }

  /** {@code docker compose exec -T client ftlab chaos NODE ARGS... --wait 0}: its output. */
  private String chaos(String node, String... args) throws InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("exec", "-T", "client", "ftlab", "chaos", node));
    cmd.addAll(List.of(args));
    if (!args[0].equals("crash")) {
      cmd.add("--wait=0");
    }
    return compose.run(DOCKER, cmd.toArray(String[]::new));
  }

  /**
   * The service's container, looked up once: the docker CLI on its id is quick (tens of ms), where
   * a compose command starts a program of its own (a second or more on a busy machine), and that
   * time would count as the failure's detection time.
   */
  private String container(String service) throws InterruptedException {
    synchronized (containers) {
      String known = containers.get(service);
      if (known != null) {
        return known;
      }
    }
    List<String> ids = compose.containers(service);
    if (ids.isEmpty()) {
      throw new IllegalStateException("no container for " + service);
    }
    synchronized (containers) {
      containers.put(service, ids.get(0));
    }
    return ids.get(0);
  }

  private int running(String service) throws InterruptedException {
    int n = 0;
    for (String id : compose.containers(service)) {
      n += Compose.status(id).equals("running") ? 1 : 0;
    }
    return n;
  }

  /** What a poll asks Docker: what shows the effect, or empty. */
  private interface DockerCheck {
    Optional<String> check() throws InterruptedException;
  }

  /** Asks Docker every {@code pause} until the check shows the effect, {@link #CONFIRM} at most. */
  private static Optional<String> until(Duration pause, DockerCheck check)
      throws InterruptedException {
    return Poll.until(
        CONFIRM,
        pause,
        () -> {
          try {
            return check.check();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
          }
        });
  }

  /** Until Docker says the service's container is in that state. */
  private Optional<String> state(String service, String wanted) throws InterruptedException {
    String container = container(service);
    return until(
        Duration.ofMillis(100),
        () -> {
          try {
            return Compose.status(container).equals(wanted)
                ? Optional.of("container " + wanted)
                : Optional.empty();
          } catch (IllegalStateException e) {
            return Optional.empty(); // an inspect that failed: asked again
          }
        });
  }

  private Optional<String> onNetwork(
      String service, String container, String network, boolean wanted)
      throws InterruptedException {
    return until(
        Duration.ofMillis(100),
        () ->
            Compose.networks(container).contains(network) == wanted
                ? Optional.of(
                    wanted
                        ? "on network " + network + " again, as " + service
                        : "off network " + network)
                : Optional.empty());
  }

  /**
   * Every running (or paused) coordinator's and node's container (the pool's are not followed): its
   * memory and thread count as {@code docker stats} gives them (the container's cgroup: the JVM,
   * the tiny init beside it, a health check running at that moment), and its main process's PID,
   * which a restart changes. One {@code docker inspect} and one {@code docker stats --no-stream}
   * for all of them; a docker command that fails is said by the sampler, a line that cannot be read
   * (a container stopped between the two) loses only its own sample.
   */
  @Override
  List<History.Sample> sample(long atMs) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "inspect",
                "--format",
                "{{.Id}} {{.State.Pid}} {{.State.Status}}"
                    + " {{index .Config.Labels \"com.docker.compose.service\"}}"));
    try {
      for (String service : MEMBERS) {
        try {
          args.add(container(service));
        } catch (IllegalStateException e) {
          // not in this lab: nothing to follow
        }
      }
      if (args.size() == 3) {
        return List.of();
      }
      Map<String, String> members = new LinkedHashMap<>(); // full container id -> service
      Map<String, Long> pids = new LinkedHashMap<>();
      for (String line : Compose.docker(SAMPLE_TIMEOUT, args.toArray(String[]::new)).split("\n")) {
        String[] f = line.trim().split(" ");
        if (f.length == 4 && (f[2].equals("running") || f[2].equals("paused"))) {
          members.put(f[0], f[3]);
          pids.put(f[0], Long.parseLong(f[1]));
        }
      }
      if (members.isEmpty()) {
        return List.of();
      }
      List<String> stats =
          new ArrayList<>(
              List.of(
                  "stats",
                  "--no-stream",
                  "--no-trunc",
                  "--format",
                  "{{.ID}}\t{{.MemUsage}}\t{{.PIDs}}"));
      stats.addAll(members.keySet());
      List<History.Sample> samples = new ArrayList<>();
      for (String line : Compose.docker(SAMPLE_TIMEOUT, stats.toArray(String[]::new)).split("\n")) {
        String[] f = line.trim().split("\t");
        if (f.length != 3 || !members.containsKey(f[0])) {
          continue;
        }
        try {
          long kb = kibibytes(f[1].split("/")[0]);
          int threads = Integer.parseInt(f[2].trim());
          if (kb > 0 && threads > 0) {
            samples.add(
                new History.Sample(null, atMs, members.get(f[0]), pids.get(f[0]), kb, threads));
          }
        } catch (NumberFormatException e) {
          // "--": stopped between the inspect and the stats
        }
      }
      return samples;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return List.of();
    }
  }

  private static final Duration SAMPLE_TIMEOUT = Duration.ofSeconds(20);

  /** The lab's coordinators and nodes, as docker-compose.yml names their services. */
  private static final List<String> MEMBERS =
      java.util.stream.Stream.concat(
              java.util.stream.IntStream.rangeClosed(1, ScenarioFile.COMPOSE_COORDINATORS)
                  .mapToObj(i -> "coordinator-" + i),
              java.util.stream.IntStream.rangeClosed(1, ScenarioFile.COMPOSE_NODES)
                  .mapToObj(i -> "node-" + i))
          .toList();

  private static final java.util.regex.Pattern SIZE =
      java.util.regex.Pattern.compile(
          "\\s*([0-9.]+)\\s*([KMGT]?i?B)\\s*", java.util.regex.Pattern.CASE_INSENSITIVE);

  /** "163.2MiB" (docker stats' memory, binary units; "kB", "MB" also read): KiB, or -1. */
  static long kibibytes(String size) {
    java.util.regex.Matcher m = SIZE.matcher(size);
    if (!m.matches()) {
      return -1;
    }
    double v = Double.parseDouble(m.group(1));
    String unit = m.group(2).toUpperCase(java.util.Locale.ROOT);
    double base = unit.contains("I") ? 1024 : 1000;
    int power =
        switch (unit.charAt(0)) {
          case 'K' -> 1;
          case 'M' -> 2;
          case 'G' -> 3;
          case 'T' -> 4;
          default -> 0;
        };
    return Math.round(v * Math.pow(base, power) / 1024);
  }

  @Override
  List<String> undo() {
    List<String> undone = new ArrayList<>();
    // the actions still under way end first (bounded: Ctrl-C must not hang)
    lanes.values().forEach(java.util.concurrent.ExecutorService::shutdown);
    try {
      for (java.util.concurrent.ExecutorService lane : lanes.values()) {
        if (!lane.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS)) {
          undone.add("an action was still running after 30 s");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (this) {
      undoNow(undone);
    }
    return undone;
  }

  private void undoNow(List<String> undone) {
    try {
      for (String s : paused) {
        undone.add(attempt("unpaused " + s, () -> Compose.docker(DOCKER, "unpause", container(s))));
      }
      for (Map.Entry<String, String> e : disconnected.entrySet()) {
        undone.add(
            attempt(
                "reconnected " + e.getKey(),
                () ->
                    Compose.docker(
                        DOCKER,
                        "network",
                        "connect",
                        "--alias",
                        e.getKey(),
                        e.getValue(),
                        container(e.getKey()))));
      }
      for (String s : down) {
        undone.add(attempt("started " + s, () -> Compose.docker(DOCKER, "start", container(s))));
      }
      for (String f : faulted) {
        if (!down.contains(f)) {
          undone.add(
              attempt(
                  "healed " + f, () -> admin(f, admin -> admin.heal().getDescription(), "heal")));
        }
      }
      if (poolBefore != null) {
        int n = poolBefore;
        undone.add(attempt("scaled the pool back to " + n, () -> scalePool(n)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      undone.add("interrupted while undoing");
    }
    if (modeBefore != null
        && scenario.timeline().stream().anyMatch(a -> a.verb() == Scenario.Verb.MODE)) {
      try (Coordinators c = new Coordinators(coordinatorAddresses, credentials())) {
        for (int i = 0; i < c.size(); i++) {
          try {
            c.setRedundancy(i, modeBefore);
          } catch (StatusRuntimeException e) {
            undone.add("could not restore the mode at " + c.address(i) + ": " + e.getStatus());
          }
        }
        undone.add(
            "mode "
                + modeBefore.getMode().name().toLowerCase(java.util.Locale.ROOT)
                + (modeBefore.getReplicas() > 0
                    ? " (replicas " + modeBefore.getReplicas() + ")"
                    : "")
                + " again");
      }
    }
  }

  private interface DockerStep {
    Object run() throws InterruptedException;
  }

  private static String attempt(String done, DockerStep step) throws InterruptedException {
    try {
      step.run();
      return done;
    } catch (RuntimeException e) {
      return "could not: " + done + " (" + e.getMessage() + ")";
    }
  }

  @Override
  void finish() {
    say.accept("the compose lab stays up ('docker compose down' stops it)");
  }
}
