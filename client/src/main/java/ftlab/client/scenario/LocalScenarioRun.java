package ftlab.client.scenario;

import ftlab.client.Coordinators;
import ftlab.client.NodeAdmin;
import ftlab.client.Poll;
import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.client.local.Member;
import ftlab.client.local.MemberProcess;
import ftlab.client.local.MemberProcess.ProcessStatus;
import ftlab.client.scenario.Scenario.Action;
import ftlab.proto.ClusterView;
import ftlab.proto.Faults;
import ftlab.proto.NodeView;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A scenario on a cluster of local processes it starts itself (on free ports, in a state folder of
 * its own): actions are signals to the processes (SIGTERM, SIGKILL, SIGSTOP, SIGCONT) and calls to
 * the nodes' admin service; each is seen to take effect in {@code /proc} or in the coordinators'
 * views. At the end, paused processes are continued, faults healed, and the cluster stopped.
 */
final class LocalScenarioRun extends ScenarioRun {
  private final LocalCluster cluster;
  private final Set<String> paused = ConcurrentHashMap.newKeySet();
  private final Set<String> faulted = ConcurrentHashMap.newKeySet();

  LocalScenarioRun(
      Scenario scenario, LocalCluster cluster, History.Writer history, Consumer<String> say) {
    super(scenario, history, say);
    this.cluster = cluster;
  }

  @Override
  void checkTimeline() {
    for (Action a : scenario.timeline()) {
      if (a.verb() == Scenario.Verb.DISCONNECT || a.verb() == Scenario.Verb.CONNECT) {
        throw new IllegalArgumentException(
            "line "
                + a.line()
                + ": "
                + a.verb().word()
                + " needs the compose lab (target: compose), and this scenario runs local"
                + " processes");
      }
    }
  }

  @Override
  List<String> prepare() throws InterruptedException {
    LocalLayout layout = LocalLayout.onFreePorts(scenario.coordinators(), scenario.nodes(), 4);
    say.accept(
        String.format(
            "starting %d coordinator%s (ports %d...) and %d node%s (ports %d...) in %s",
            scenario.coordinators(),
            scenario.coordinators() == 1 ? "" : "s",
            layout.coordinatorBasePort(),
            scenario.nodes(),
            scenario.nodes() == 1 ? "" : "s",
            layout.nodeBasePort(),
            cluster.stateDir()));
    List<Member> members = cluster.up(layout, scenario.tls(), Duration.ofSeconds(120), say);
    StringBuilder ready = new StringBuilder("cluster ready:");
    for (Member m : members) {
      ready.append(String.format(" %s (PID %d, port %d)", m.name(), m.pid(), m.port()));
    }
    say.accept(ready.toString());
    return cluster.coordinatorAddresses();
  }

  /** As the lab's admin, with mutual TLS: the load, the mode switches and the revocations. */
  @Override
  ChannelCredentials credentials() {
    return scenario.tls() ? cluster.credentials("admin") : InsecureChannelCredentials.create();
  }

  @Override
  Confirmation perform(Action a, Coordinators coordinators) {
    switch (a.verb()) {
      case KILL:
        cluster.signal(a.target(), "KILL");
        return () -> until(a.target(), ProcessStatus.EXITED);
      case STOP:
        cluster.signal(a.target(), "TERM");
        return () -> until(a.target(), ProcessStatus.EXITED);
      case PAUSE:
        cluster.signal(a.target(), "STOP");
        paused.add(a.target());
        return () -> until(a.target(), ProcessStatus.PAUSED);
      case UNPAUSE:
        cluster.signal(a.target(), "CONT");
        paused.remove(a.target());
        return () -> until(a.target(), ProcessStatus.RUNNING);
      case START:
        Member m = cluster.start(a.target());
        return () -> until(a.target(), ProcessStatus.RUNNING).map(s -> s + ", PID " + m.pid());
      case FAULT:
        return fault(a, coordinators);
      case ATTACK:
        return attack(a, coordinators);
      case SCALE:
        return scale(Integer.parseInt(a.args().get("nodes")));
      case HEAL:
        try (NodeAdmin admin = nodeAdmin(a.target())) {
          admin.heal();
        }
        faulted.remove(a.target());
        return () -> faultsSeen(coordinators, a.target(), Faults.getDefaultInstance());
      default:
        throw new IllegalArgumentException(a.verb().word() + " needs the compose lab");
    }
  }

  /** How long new nodes may take to be ALIVE everywhere: JVMs starting on a busy machine. */
  private static final Duration JOIN = Duration.ofSeconds(30);

  /**
   * {@code ftlab local scale N}: new nodes are started like node-1 and seen once every coordinator
   * has each ALIVE (their first heartbeat); the newest nodes beyond N get SIGTERM and are seen once
   * they exited (gracefully: each said goodbye and finished its tasks; SIGKILL after 10 s).
   */
  private Confirmation scale(int n) {
    int before = cluster.nodes().size();
    if (n > before) {
      List<Member> added = cluster.addNodes(n);
      List<String> names = added.stream().map(Member::name).toList();
      return () -> {
        cluster.awaitAlive(names, JOIN);
        return Optional.of(String.join(", ", names) + " ALIVE at every coordinator");
      };
    }
    if (n < before) {
      List<Member> leaving = cluster.terminateNodesBeyond(n);
      List<String> names = leaving.stream().map(Member::name).toList();
      paused.removeAll(names);
      faulted.removeAll(names);
      return () -> {
        LocalCluster.awaitGone(leaving, Duration.ofSeconds(10));
        return Optional.of(
            String.join(", ", names)
                + " stopped"
                + " ("
                + n
                + " node"
                + (n == 1 ? "" : "s")
                + " left)");
      };
    }
    return () -> Optional.of("the cluster has " + n + (n == 1 ? " node" : " nodes") + " already");
  }

  private Confirmation fault(Action a, Coordinators coordinators) {
    String kind = a.args().get("fault");
    if (kind.equals("crash")) {
      try (NodeAdmin admin = nodeAdmin(a.target())) {
        admin.crash();
      }
      return () -> until(a.target(), ProcessStatus.EXITED);
    }
    Faults faults = faults(a);
    String reported;
    try (NodeAdmin admin = nodeAdmin(a.target())) {
      reported = admin.set(faults).getDescription();
    }
    faulted.add(a.target());
    if (kind.equals("freeze") || kind.equals("mute")) {
      // its heartbeats stop: the coordinators cannot be told; the node's own word is the effect
      return () -> Optional.of("the node reports: " + reported);
    }
    return () -> faultsSeen(coordinators, a.target(), faults);
  }

  private NodeAdmin nodeAdmin(String node) {
    ChannelCredentials credentials = InsecureChannelCredentials.create();
    if (scenario.tls()) {
      try {
        credentials = TlsFiles.read(cluster.tlsFolder(), "admin").channel(Role.NODE);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("the admin's certificate: " + e.getMessage(), e);
      }
    }
    return new NodeAdmin(cluster.member(node).address(), credentials);
  }

  /**
   * An attacker's try ({@link Attack}): node-3's certificate beating for node-1 at every
   * coordinator that answers, or a caller who is not an admin switching a coordinator's mode. Made
   * beside the timeline (a handshake, a certificate made on the spot). It is seen when every
   * coordinator it tried refused it and counted the refusal in its view by a layer that refuses
   * such an attack (which one is said), or when it got through (the expectations say whether it
   * should have); a call that failed for another reason (no answer in time) did not reach them.
   */
  private Confirmation attack(Action a, Coordinators coordinators) {
    boolean impersonate = a.args().get("attack").equals("impersonate");
    String as = a.args().get("as");
    Attack attacker =
        new Attack(scenario.tls() ? Optional.of(cluster.tlsFolder()) : Optional.empty(), as);
    List<Integer> targets = new ArrayList<>();
    if (impersonate) {
      for (int i = 0; i < coordinators.size(); i++) {
        targets.add(i);
      }
    } else {
      int i = coordinators.addresses().indexOf(cluster.member(a.target()).address());
      if (i < 0) {
        throw new IllegalArgumentException(a.target() + " is not one of the coordinators");
      }
      targets.add(i);
    }
    // the layers that refuse this attack: any other's count may rise meanwhile (a revoked node's
    // beats), and says nothing about it
    Set<String> layers =
        !scenario.tls()
            ? Set.of("guards", "rate_limit")
            : impersonate
                ? Set.of("identity", "handshake", "revocation", "rate_limit")
                : Set.of("authorization", "handshake", "revocation", "rate_limit");
    String address =
        cluster.members().stream().anyMatch(m -> m.name().equals(as))
            ? cluster.member(as).address()
            : "127.0.0.1:1";
    return () -> {
      Map<Integer, Map<String, Long>> before = new java.util.HashMap<>();
      List<String> down = new ArrayList<>();
      long incarnation = 0;
      for (int i : targets) {
        Optional<ClusterView> v = view(coordinators, i);
        if (v.isEmpty()) {
          down.add(coordinators.address(i));
          continue;
        }
        before.put(i, refusedCounts(v.get()));
        for (NodeView n : v.get().getNodesList()) {
          if (n.getNodeId().equals(a.target())) {
            incarnation = Math.max(incarnation, n.getIncarnation());
          }
        }
      }
      if (before.isEmpty()) {
        throw new IllegalStateException("no coordinator to attack answers: " + down);
      }
      List<String> refused = new ArrayList<>();
      List<String> through = new ArrayList<>();
      for (int i : before.keySet()) {
        String coordinator = coordinators.address(i);
        Attack.Result r =
            impersonate
                ? attacker.impersonate(coordinator, a.target(), incarnation, address)
                : attacker.switchMode(coordinator);
        (r.refused() ? refused : through).add(r.words());
      }
      String who =
          attacker.who() + (down.isEmpty() ? "" : " (not tried at " + down + ": no answer)");
      if (!through.isEmpty()) {
        return Optional.of(who + ": " + String.join("; ", through));
      }
      return Poll.until(
          CONFIRM,
          Duration.ofMillis(50),
          () -> {
            List<String> counted = new ArrayList<>();
            for (Map.Entry<Integer, Map<String, Long>> b : before.entrySet()) {
              Optional<ClusterView> v = view(coordinators, b.getKey());
              if (v.isEmpty()) {
                return Optional.empty();
              }
              List<String> rose = new ArrayList<>();
              refusedCounts(v.get())
                  .forEach(
                      (layer, n) -> {
                        if (layers.contains(layer) && n > b.getValue().getOrDefault(layer, 0L)) {
                          rose.add(layer);
                        }
                      });
              if (rose.isEmpty()) {
                return Optional.empty();
              }
              counted.add(v.get().getCoordinatorId() + " by " + String.join(" and ", rose));
            }
            return Optional.of(
                who
                    + ": refused ("
                    + refused.get(0)
                    + "), counted at "
                    + String.join(", ", counted));
          });
    };
  }

  private Optional<String> until(String name, ProcessStatus status) throws InterruptedException {
    return Poll.until(
        CONFIRM,
        Duration.ofMillis(20),
        () ->
            MemberProcess.status(cluster.member(name)) == status
                ? Optional.of("process " + status.word())
                : Optional.empty());
  }

  /** Every running (or paused) member's resident memory and threads, from /proc/PID/status. */
  @Override
  List<History.Sample> sample(long atMs) {
    List<History.Sample> samples = new ArrayList<>();
    for (Member m : cluster.members()) {
      if (MemberProcess.status(m) == ProcessStatus.EXITED) {
        continue;
      }
      try {
        long rss = -1;
        int threads = -1;
        for (String line :
            java.nio.file.Files.readAllLines(
                java.nio.file.Path.of("/proc", Long.toString(m.pid()), "status"))) {
          if (line.startsWith("VmRSS:")) {
            rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
          } else if (line.startsWith("Threads:")) {
            threads = Integer.parseInt(line.replaceAll("[^0-9]", ""));
          }
        }
        if (rss >= 0 && threads >= 0) {
          samples.add(new History.Sample(null, atMs, m.name(), m.pid(), rss, threads));
        }
      } catch (java.io.IOException | RuntimeException e) {
        // exited between the two looks, or not Linux: no sample
      }
    }
    return samples;
  }

  @Override
  List<String> undo() {
    List<String> undone = new ArrayList<>();
    for (String p : paused) {
      try {
        cluster.signal(p, "CONT");
        undone.add("continued " + p);
      } catch (RuntimeException e) {
        undone.add("could not continue " + p + ": " + e.getMessage());
      }
    }
    for (String f : faulted) {
      if (MemberProcess.status(cluster.member(f)) != ProcessStatus.RUNNING) {
        continue;
      }
      try (NodeAdmin admin = nodeAdmin(f)) {
        admin.heal();
        undone.add("healed " + f);
      } catch (RuntimeException e) {
        undone.add("could not heal " + f + ": " + e.getMessage());
      }
    }
    return undone;
  }

  @Override
  void finish() {
    try {
      cluster.down(Duration.ofSeconds(10), line -> {});
      say.accept("cluster stopped");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      say.accept("could not stop the cluster: " + e.getMessage());
    }
  }
}
