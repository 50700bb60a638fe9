package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ftlab.client.Coordinators;
import ftlab.client.status.ViewRecorder;
import ftlab.client.watch.Outcome;
import ftlab.client.watch.Summary;
import ftlab.client.watch.TaskMix;
import ftlab.client.watch.Watch;
import ftlab.proto.ClusterView;
import ftlab.proto.NodeState;
import ftlab.proto.NodeView;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

/**
 * What a failover test sees of a running cluster, however it was started (local processes or
 * containers): a steady checked load from {@link Watch} (the code behind {@code ftlab watch}), a
 * {@link ViewRecorder} polling every coordinator, and bounded waits on both. It breaks nothing
 * itself: the test does that, the way a learner would, and then asks the probe what followed.
 *
 * <p>Shared with the container tests through the client's test jar.
 */
public final class ClusterProbe implements AutoCloseable {
  /** Load during the tests: 40 checked requests a second, 4 at a time. */
  public static final Watch.Settings LOAD =
      Watch.Settings.DEFAULT
          .withRate(40)
          .withConcurrency(4)
          .withDuration(Duration.ofMinutes(3))
          .withTasks(new TaskMix("mix", 7, 20_000, 10));

  private static final Duration ANSWERS_WITHIN = Duration.ofSeconds(30);

  private final Coordinators coordinators;
  private final List<String> coordinatorIds;
  private final ViewRecorder views;
  private final ConcurrentLinkedQueue<Outcome> failures = new ConcurrentLinkedQueue<>();
  private final Map<String, LongAdder> answersVia = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> answersBy = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Outcome> answered = new ConcurrentLinkedQueue<>();
  private Watch watch;
  private CompletableFuture<Summary> load;

  /**
   * @param addresses the coordinators' host:port, as this process reaches them
   * @param coordinatorIds their ids, as they name themselves in their views
   */
  public ClusterProbe(List<String> addresses, List<String> coordinatorIds) {
    this(addresses, coordinatorIds, io.grpc.InsecureChannelCredentials.create());
  }

  /** The same, with these credentials (mutual TLS as a client). */
  public ClusterProbe(
      List<String> addresses, List<String> coordinatorIds, io.grpc.ChannelCredentials credentials) {
    this.coordinators = new Coordinators(addresses, credentials);
    this.coordinatorIds = List.copyOf(coordinatorIds);
    this.views = new ViewRecorder(coordinators, Duration.ofMillis(20));
  }

  public ViewRecorder views() {
    return views;
  }

  public List<String> coordinatorIds() {
    return coordinatorIds;
  }

  /** The coordinators' channels, for admin calls. */
  public Coordinators coordinators() {
    return coordinators;
  }

  /** Every answered request of the current load, right or wrong. */
  public List<Outcome> answered() {
    return List.copyOf(answered);
  }

  /** The requests that failed or got a wrong answer so far. */
  public List<Outcome> failures() {
    return List.copyOf(failures);
  }

  /** Starts the steady load in the background. */
  public void startLoad() {
    startLoad(LOAD);
  }

  /** Starts a load with these settings in the background. */
  public void startLoad(Watch.Settings settings) {
    answersVia.clear();
    answersBy.clear();
    failures.clear();
    answered.clear();
    watch = new Watch(coordinators, settings);
    load =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return watch.run(this::record, s -> System.out.println("[load] " + s), seconds(2));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
  }

  private void record(Outcome o) {
    if (o.answer() != null) {
      answered.add(o);
      count(answersVia, o.answer().getCoordinatorId());
      count(answersBy, o.answer().getNodeId());
    }
    if (!o.ok()) {
      failures.add(o);
      System.out.println("[load] not ok: " + o);
    }
  }

  private static void count(Map<String, LongAdder> counts, String key) {
    counts.computeIfAbsent(key, k -> new LongAdder()).increment();
  }

  private static long get(Map<String, LongAdder> counts, String key) {
    LongAdder n = counts.get(key);
    return n == null ? 0 : n.sum();
  }

  /** Answers the load got so far. */
  public long answers() {
    return answersVia.values().stream().mapToLong(LongAdder::sum).sum();
  }

  /** Answers the load got through the coordinator (by id) so far. */
  public long answersVia(String coordinatorId) {
    return get(answersVia, coordinatorId);
  }

  /** Answers the node (by id) computed for the load so far. */
  public long answersBy(String nodeId) {
    return get(answersBy, nodeId);
  }

  /** Waits until the load has got at least {@code n} more answers. */
  public void awaitMoreAnswers(int n) {
    long target = answers() + n;
    await(n + " more answers").atMost(ANSWERS_WITHIN).until(() -> answers() >= target);
  }

  /**
   * Waits until at least {@code n} answers of the current load are of the kind described: for what
   * a random fault brings about only now and then (a 5% stall that a hedge wins), the load runs
   * until it has happened, not for a number of requests that only usually suffices.
   */
  public void awaitAnswers(String what, Predicate<Outcome> kind, int n) {
    await(n + " answers " + what)
        .atMost(ANSWERS_WITHIN)
        .until(() -> answered.stream().filter(kind).limit(n).count() >= n);
  }

  /** Waits until the node has computed at least {@code n} more answers for the load. */
  public void awaitMoreAnswersFrom(String nodeId, int n) {
    long target = answersBy(nodeId) + n;
    await(n + " more answers from " + nodeId)
        .atMost(ANSWERS_WITHIN)
        .until(() -> answersBy(nodeId) >= target);
  }

  /** Waits until the load has got at least {@code n} more answers through the coordinator. */
  public void awaitMoreAnswersVia(String coordinatorId, int n) {
    long target = answersVia(coordinatorId) + n;
    await(n + " more answers via " + coordinatorId)
        .atMost(ANSWERS_WITHIN)
        .until(() -> answersVia(coordinatorId) >= target);
  }

  /** Waits until every coordinator (of those given) sees the node in the state. */
  public void awaitState(
      String node, NodeState state, List<String> byCoordinators, Duration atMost) {
    await(node + " " + state + " at " + byCoordinators)
        .atMost(atMost)
        .pollInterval(Duration.ofMillis(20))
        .until(() -> views.allSee(node, state, byCoordinators));
  }

  /** Waits until every coordinator sees the node in the state. */
  public void awaitState(String node, NodeState state, Duration atMost) {
    awaitState(node, state, coordinatorIds, atMost);
  }

  /**
   * The states a node has been seen in, by any coordinator, since {@code afterNanos}: sampled by
   * polling, so a short state may be missed. To ask whether a node was suspected, use {@link
   * #suspicions}, which the coordinators count themselves.
   */
  public List<NodeState> statesSeen(String node, long afterNanos) {
    return views.statesSeen(node, afterNanos);
  }

  /**
   * The node's state changes seen since {@code afterNanos}, as "coordinator-1: SUSPECT (reason)",
   * oldest first: sampled like {@link #statesSeen}, for a failure message to say why.
   */
  public List<String> changesSeen(String node, long afterNanos) {
    return views.changes().stream()
        .filter(c -> c.nodeId().equals(node) && c.atNanos() - afterNanos >= 0)
        .map(c -> c.coordinatorId() + ": " + c.state() + " (" + c.reason() + ")")
        .toList();
  }

  /**
   * How many times each coordinator has suspected the node (ALIVE -> SUSPECT), by its own count,
   * asked now: by coordinator id. Unlike {@link #statesSeen}, nothing is sampled, so a suspicion
   * that lasted a millisecond is counted too. Waits (a bounded time) until every coordinator has
   * answered: a count that is missing would read as a change.
   */
  public Map<String, Long> suspicions(String node) {
    Map<String, Long> out = new TreeMap<>();
    await("every coordinator's count of suspicions of " + node)
        .atMost(ANSWERS_WITHIN)
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              for (int i = 0; i < coordinators.size(); i++) {
                try {
                  ClusterView v = coordinators.view(i, 2_000);
                  for (NodeView n : v.getNodesList()) {
                    if (n.getNodeId().equals(node)) {
                      out.put(v.getCoordinatorId(), n.getTimesSuspected());
                    }
                  }
                } catch (StatusRuntimeException e) {
                  // slow or down: asked again at the next poll
                }
              }
              return out.keySet().containsAll(coordinatorIds);
            });
    return out;
  }

  /**
   * Checks that every coordinator took the node through SUSPECT since {@code before} (from {@link
   * #suspicions}): its own count went up. With the node now DEAD, that is the whole way the
   * transition table allows (ALIVE -> SUSPECT -> DEAD), proven from the coordinators' records
   * rather than from polls that may fall between two transitions.
   */
  public void assertSuspectedAgainSince(String node, Map<String, Long> before) {
    Map<String, Long> now = suspicions(node);
    assertThat(now.keySet()).as("coordinators that know " + node).containsAll(coordinatorIds);
    for (String c : coordinatorIds) {
      assertThat(now.get(c))
          .as("times %s suspected %s, before the fault %s", c, node, before.get(c))
          .isGreaterThan(before.getOrDefault(c, 0L));
    }
  }

  /** Stops the load and returns its summary. */
  public Summary stopLoad() throws Exception {
    watch.stop();
    return load.get(30, TimeUnit.SECONDS);
  }

  /**
   * Stops the load and checks the promise of the whole product: enough requests were sent to mean
   * something, none failed and none got a wrong answer.
   */
  public Summary stopLoadAndAssertNoClientVisibleFailure() throws Exception {
    Summary s = stopLoad();
    assertThat(s.sent()).as("requests sent").isGreaterThan(100);
    assertThat(s.failed()).as("failed requests: %s", failures).isZero();
    assertThat(s.wrong()).as("wrong answers: %s", failures).isZero();
    return s;
  }

  private static Duration seconds(int n) {
    return Duration.ofSeconds(n);
  }

  @Override
  public void close() {
    if (watch != null) {
      watch.stop();
    }
    views.close();
    coordinators.close();
  }
}
