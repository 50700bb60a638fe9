package ftlab.client.it;

import static org.awaitility.Awaitility.await;

import ftlab.client.Coordinators;
import ftlab.client.local.Jars;
import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.client.local.Member;
import ftlab.client.status.ViewRecorder;
import ftlab.client.watch.Outcome;
import ftlab.client.watch.Summary;
import ftlab.client.watch.TaskMix;
import ftlab.client.watch.Watch;
import ftlab.proto.NodeState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * A real cluster of JVMs for one test: started from the built fat jars with {@link LocalCluster}
 * (the code behind {@code ftlab local up}) on free loopback ports, in a fresh state folder, with a
 * steady checked load from {@link Watch} (the code behind {@code ftlab watch}) and a {@link
 * ViewRecorder} watching every coordinator. {@link #close} ends every process it started, by PID.
 */
final class RunningCluster implements AutoCloseable {
  /** Load during the tests: 40 checked requests a second, 4 at a time. */
  static final Watch.Settings LOAD =
      Watch.Settings.DEFAULT
          .withRate(40)
          .withConcurrency(4)
          .withDuration(Duration.ofMinutes(3))
          .withTasks(new TaskMix("mix", 7, 20_000, 10));

  final LocalCluster cluster;
  final LocalLayout layout;
  final Coordinators coordinators;
  final ViewRecorder views;
  final List<String> coordinatorIds = new ArrayList<>();
  private Watch watch;
  private CompletableFuture<Summary> load;
  final ConcurrentLinkedQueue<Outcome> failures = new ConcurrentLinkedQueue<>();

  /** Answers the load got, by the id of the coordinator that answered. */
  private final Map<String, LongAdder> answersVia = new ConcurrentHashMap<>();

  RunningCluster(int coordinators, int nodes) throws Exception {
    Path dir = Files.createTempDirectory("ftlab-it-");
    this.layout = LocalLayout.onFreePorts(coordinators, nodes, 4);
    this.cluster = new LocalCluster(dir, Jars.locate());
    cluster.up(layout, Duration.ofSeconds(90), line -> System.out.println("[up] " + line));
    for (int i = 1; i <= coordinators; i++) {
      coordinatorIds.add(layout.coordinatorName(i));
    }
    this.coordinators = new Coordinators(layout.coordinatorAddresses());
    this.views = new ViewRecorder(this.coordinators, Duration.ofMillis(20));
  }

  /** Starts the steady load in the background. */
  void startLoad() {
    watch = new Watch(coordinators, LOAD);
    load =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return watch.run(
                    o -> {
                      if (o.answer() != null) {
                        answersVia
                            .computeIfAbsent(o.answer().getCoordinatorId(), k -> new LongAdder())
                            .increment();
                      }
                      if (!o.ok()) {
                        failures.add(o);
                        System.out.println("[load] not ok: " + o);
                      }
                    },
                    s -> System.out.println("[load] " + s),
                    Duration.ofSeconds(2));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
  }

  /** Waits until the load has produced at least {@code n} more answers. */
  void awaitMoreAnswers(int n) {
    long target = answersSoFar() + n;
    await("" + n + " more answers")
        .atMost(Duration.ofSeconds(30))
        .until(() -> answersSoFar() >= target);
  }

  /** Waits until the node has served at least {@code n} more answers (through any coordinator). */
  void awaitMoreAnswersFrom(String node, int n) {
    long target = answersBy(node) + n;
    await(n + " more answers from " + node)
        .atMost(Duration.ofSeconds(30))
        .until(() -> answersBy(node) >= target);
  }

  /** Answers the load got through the coordinator so far. */
  long answersVia(String coordinator) {
    LongAdder n = answersVia.get(coordinator);
    return n == null ? 0 : n.sum();
  }

  /** Waits until the load has got at least {@code n} more answers through the coordinator. */
  void awaitMoreAnswersVia(String coordinator, int n) {
    long target = answersVia(coordinator) + n;
    await(n + " more answers via " + coordinator)
        .atMost(Duration.ofSeconds(30))
        .until(() -> answersVia(coordinator) >= target);
  }

  long answersBy(String node) {
    return views.latest().values().stream()
        .flatMap(v -> v.getNodesList().stream())
        .filter(n -> n.getNodeId().equals(node))
        .mapToLong(n -> n.getAnswers())
        .sum();
  }

  private long answersSoFar() {
    return views.latest().values().stream()
        .flatMap(v -> v.getNodesList().stream())
        .mapToLong(n -> n.getAnswers())
        .sum();
  }

  /** Stops the load and returns its summary. */
  Summary stopLoad() throws Exception {
    watch.stop();
    return load.get(30, TimeUnit.SECONDS);
  }

  /** Waits until every coordinator (of those given) sees the node in the state. */
  void awaitState(String node, NodeState state, List<String> byCoordinators, Duration atMost) {
    await(node + " " + state + " at " + byCoordinators)
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> views.allSee(node, state, byCoordinators));
  }

  void awaitState(String node, NodeState state, Duration atMost) {
    awaitState(node, state, coordinatorIds, atMost);
  }

  long pid(String name) {
    return cluster.member(name).pid();
  }

  /** Waits until the member's process has exited. */
  void awaitExit(String name, Duration atMost) {
    Member m = cluster.member(name);
    await(name + " exits")
        .atMost(atMost)
        .until(() -> LocalCluster.status(m) == LocalCluster.ProcessStatus.EXITED);
  }

  @Override
  public void close() throws Exception {
    if (watch != null) {
      watch.stop();
    }
    views.close();
    coordinators.close();
    // SIGCONT first: a paused process cannot act on SIGTERM
    cluster.down(Duration.ofSeconds(10), line -> System.out.println("[down] " + line));
    cluster.deleteState();
  }
}
