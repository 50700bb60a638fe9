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
import ftlab.proto.Faults;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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
      if (a.verb() == Scenario.Verb.DISCONNECT
          || a.verb() == Scenario.Verb.CONNECT
          || a.verb() == Scenario.Verb.SCALE) {
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
            "starting %d coordinators (ports %d...) and %d nodes (ports %d...) in %s",
            scenario.coordinators(),
            layout.coordinatorBasePort(),
            scenario.nodes(),
            layout.nodeBasePort(),
            cluster.stateDir()));
    List<Member> members = cluster.up(layout, Duration.ofSeconds(120), say);
    StringBuilder ready = new StringBuilder("cluster ready:");
    for (Member m : members) {
      ready.append(String.format(" %s (PID %d, port %d)", m.name(), m.pid(), m.port()));
    }
    say.accept(ready.toString());
    return cluster.coordinatorAddresses();
  }

  @Override
  ChannelCredentials credentials() {
    return InsecureChannelCredentials.create();
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
    return new NodeAdmin(cluster.member(node).address(), InsecureChannelCredentials.create());
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
