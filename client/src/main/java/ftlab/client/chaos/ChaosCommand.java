package ftlab.client.chaos;

import ftlab.client.CoordinatorOption;
import ftlab.client.Coordinators;
import ftlab.client.DurationConverter;
import ftlab.client.NodeAdmin;
import ftlab.client.Poll;
import ftlab.proto.ClusterView;
import ftlab.proto.FaultWords;
import ftlab.proto.Faults;
import ftlab.proto.FaultsReply;
import ftlab.proto.Lie;
import ftlab.proto.NodeView;
import ftlab.security.Role;
import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;

/**
 * {@code ftlab chaos NODE ...}: injects a fault into a running node through its NodeAdmin service,
 * then watches the coordinators' views, for a few seconds, to see whether and when each of them
 * noticed. The coordinators are never told: they must find out from what the node does.
 */
@Command(
    name = "chaos",
    mixinStandardHelpOptions = true,
    description = {
      "Inject a fault into a running node, from inside it, and see whether the coordinators"
          + " notice. Without a subcommand, show the node's faults.",
      "The node's address comes from a coordinator's view (or --node-address). The coordinators"
          + " are not told: a slow, failing or lying node reports its faults in its heartbeats,"
          + " a frozen or muted one goes silent until they suspect it, a crashed one ends up DEAD."
          + " One line per coordinator says whether and when it noticed.",
      "Exit code 0 when the node made the change, whatever the coordinators noticed."
    },
    subcommands = {
      ChaosCommand.Slow.class,
      ChaosCommand.ErrorCommand.class,
      ChaosCommand.LieCommand.class,
      ChaosCommand.Freeze.class,
      ChaosCommand.MuteHeartbeats.class,
      ChaosCommand.Crash.class,
      ChaosCommand.Heal.class,
      ChaosCommand.Show.class
    })
public final class ChaosCommand implements Callable<Integer> {

  /** Deadline of each cluster view asked for. */
  private static final Duration VIEW_DEADLINE = Duration.ofMillis(1_000);

  /**
   * How often the views are polled while confirming. A quarter of the 100 ms heartbeat interval,
   * like the detector's tick: the times printed are to within about that.
   */
  private static final Duration POLL = Duration.ofMillis(25);

  @Parameters(index = "0", paramLabel = "NODE", description = "The node's id, e.g. node-2.")
  String node;

  @Mixin CoordinatorOption coordinatorOption;

  @Option(
      names = "--node-address",
      paramLabel = "HOST:PORT",
      scope = ScopeType.INHERIT,
      description =
          "Where to reach the node, instead of the address in the coordinators' view (which is"
              + " the address inside the cluster, e.g. node-2:7101 in Docker).")
  String nodeAddress;

  @Option(
      names = "--wait",
      defaultValue = "3s",
      converter = DurationConverter.class,
      scope = ScopeType.INHERIT,
      description =
          "How long to wait for the coordinators to notice; 0 to not wait."
              + " Default: ${DEFAULT-VALUE}.")
  Duration wait;

  private final PrintStream out = System.out;

  @Override
  public Integer call() {
    return show();
  }

  // ---- the subcommands ----

  @Command(
      name = "slow",
      mixinStandardHelpOptions = true,
      description = "Make tasks slower: DELAY plus a random 0..JITTER, before they run.")
  static final class Slow implements Callable<Integer> {
    @ParentCommand ChaosCommand chaos;

    @Option(
        names = "--delay",
        required = true,
        converter = DurationConverter.class,
        paramLabel = "DURATION",
        description = "Added to each slowed task, e.g. 200ms (at most 60s).")
    Duration delay;

    @Option(
        names = "--jitter",
        defaultValue = "0ms",
        converter = DurationConverter.class,
        paramLabel = "DURATION",
        description = "Up to this much more, at random, e.g. 50ms. Default: ${DEFAULT-VALUE}.")
    Duration jitter;

    @Option(
        names = "--fraction",
        converter = FractionConverter.class,
        paramLabel = "FRACTION",
        description = "Of tasks, e.g. 10%% or 0.1. Default: every task.")
    Double fraction;

    Faults faults() {
      ftlab.proto.Slow.Builder slow =
          ftlab.proto.Slow.newBuilder().setDelayMs(millis(delay)).setJitterMs(millis(jitter));
      if (fraction != null) {
        slow.setFraction(fraction);
      }
      return Faults.newBuilder().setSlow(slow).build();
    }

    @Override
    public Integer call() {
      return chaos.set(faults(), reply -> new Confirmation.ReportsFaults(reply.getFaults()));
    }
  }

  @Command(
      name = "error",
      mixinStandardHelpOptions = true,
      description = "Make tasks fail with a gRPC status instead of a result.")
  static final class ErrorCommand implements Callable<Integer> {
    @ParentCommand ChaosCommand chaos;

    @Option(
        names = "--code",
        defaultValue = "UNAVAILABLE",
        paramLabel = "CODE",
        description =
            "A gRPC status code other than OK, e.g. UNAVAILABLE (the coordinator retries it on"
                + " another node) or INTERNAL (it does not). Default: ${DEFAULT-VALUE}.")
    String code;

    @Option(
        names = "--fraction",
        converter = FractionConverter.class,
        paramLabel = "FRACTION",
        description = "Of tasks, e.g. 20%% or 0.2. Default: every task.")
    Double fraction;

    Faults faults() {
      ftlab.proto.Error.Builder error =
          ftlab.proto.Error.newBuilder().setCode(code.strip().toUpperCase(java.util.Locale.ROOT));
      if (fraction != null) {
        error.setFraction(fraction);
      }
      return Faults.newBuilder().setError(error).build();
    }

    @Override
    public Integer call() {
      return chaos.set(faults(), reply -> new Confirmation.ReportsFaults(reply.getFaults()));
    }
  }

  @Command(
      name = "lie",
      mixinStandardHelpOptions = true,
      description =
          "Make tasks return a wrong result that looks right (a prime count off by one, an echo"
              + " changed a little).")
  static final class LieCommand implements Callable<Integer> {
    @ParentCommand ChaosCommand chaos;

    @Option(
        names = "--fraction",
        converter = FractionConverter.class,
        paramLabel = "FRACTION",
        description = "Of tasks, e.g. 30%% or 0.3. Default: every task.")
    Double fraction;

    Faults faults() {
      Lie.Builder lie = Lie.newBuilder();
      if (fraction != null) {
        lie.setFraction(fraction);
      }
      return Faults.newBuilder().setLie(lie).build();
    }

    @Override
    public Integer call() {
      return chaos.set(faults(), reply -> new Confirmation.ReportsFaults(reply.getFaults()));
    }
  }

  @Command(
      name = "freeze",
      mixinStandardHelpOptions = true,
      description =
          "Stop answering tasks and sending heartbeats, with the process up: a gray failure,"
              + " like kill -STOP. Undo with heal.")
  static final class Freeze implements Callable<Integer> {
    @ParentCommand ChaosCommand chaos;

    @Override
    public Integer call() {
      return chaos.set(Faults.newBuilder().setFreeze(true).build(), reply -> Confirmation.SILENCED);
    }
  }

  @Command(
      name = "mute-heartbeats",
      mixinStandardHelpOptions = true,
      description =
          "Stop sending heartbeats but keep serving tasks: a one-way partition. Undo with heal.")
  static final class MuteHeartbeats implements Callable<Integer> {
    @ParentCommand ChaosCommand chaos;

    @Override
    public Integer call() {
      return chaos.set(
          Faults.newBuilder().setMuteHeartbeats(true).build(), reply -> Confirmation.SILENCED);
    }
  }

  @Command(
      name = "crash",
      mixinStandardHelpOptions = true,
      description =
          "End the node's process at once, without a goodbye, like kill -9 (exit code 137)."
              + " Start it again with 'ftlab local start NODE' or 'docker compose start NODE'.")
  static final class Crash implements Callable<Integer> {
    @ParentCommand ChaosCommand chaos;

    @Override
    public Integer call() {
      return chaos.crash();
    }
  }

  @Command(
      name = "heal",
      mixinStandardHelpOptions = true,
      description = "Clear every fault: the node behaves again.")
  static final class Heal implements Callable<Integer> {
    @ParentCommand ChaosCommand chaos;

    @Override
    public Integer call() {
      return chaos.heal();
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Show the node's faults, as the node and as each coordinator sees them.")
  static final class Show implements Callable<Integer> {
    @ParentCommand ChaosCommand chaos;

    @Override
    public Integer call() {
      return chaos.show();
    }
  }

  // ---- what they do ----

  /** What the coordinators' views should show after a change, given the node's reply. */
  private interface Expect {
    Confirmation after(FaultsReply reply);
  }

  private int set(Faults faults, Expect expect) {
    return change(
        (admin, before) -> {
          FaultsReply reply = admin.set(faults);
          return new Outcome("faults now: " + words(reply), expect.after(reply));
        });
  }

  private int heal() {
    return change(
        (admin, before) -> {
          admin.heal();
          Faults had = before.getFaults();
          // A node that was silent shows its recovery by beating again: ALIVE. Otherwise its
          // next beat reports no faults.
          Confirmation back =
              had.getFreeze() || had.getMuteHeartbeats()
                  ? Confirmation.BEATING
                  : new Confirmation.FaultsCleared(had);
          return new Outcome(
              "healed, no faults (it had " + FaultWords.describeOr(had, "none") + ")", back);
        });
  }

  private int crash() {
    return change(
        (admin, before) -> {
          admin.crash();
          return new Outcome(
              "crashing: it halts in a moment, without a goodbye (exit code 137)",
              Confirmation.GONE);
        });
  }

  private int show() {
    try (Cluster cluster = cluster()) {
      String address = address(cluster);
      FaultsReply faults = withAdmin(address, cluster, (admin, before) -> before).result();
      out.println(node + " at " + address + ": " + words(faults));
      for (int i = 0; i < cluster.views().size(); i++) {
        out.println(showLine(node, cluster.views().get(i), cluster.problems().get(i)));
      }
      return 0;
    }
  }

  /** The line of {@code show} for one coordinator. */
  static String showLine(String node, Optional<ClusterView> view, String problem) {
    if (view.isEmpty()) {
      return problem;
    }
    Optional<NodeView> n = find(view.get(), node);
    if (n.isEmpty()) {
      return view.get().getCoordinatorId() + " does not know " + node;
    }
    return String.format(
        "%s has %s %s, last heartbeat %d ms ago, faults in its view: %s",
        view.get().getCoordinatorId(),
        node,
        n.get().getState(),
        n.get().getLastHeartbeatAgeMs(),
        FaultWords.describeOr(n.get().getFaults(), "none"));
  }

  /** What a change did, in words, and how the coordinators will show it. */
  private record Outcome(String words, Confirmation confirmation) {}

  /** A call to the node's admin service, given the faults it had just before. */
  private interface AdminCall<T> {
    T call(NodeAdmin admin, FaultsReply before);
  }

  /** What a change did, and when the CLI sent it (this process's nanoTime). */
  private record Sent<T>(T result, long sentNanos) {}

  private int change(AdminCall<Outcome> change) {
    try (Cluster cluster = cluster()) {
      String address = address(cluster);
      Sent<Outcome> sent = withAdmin(address, cluster, change);
      long repliedAt = System.nanoTime();
      out.println(node + " at " + address + ": " + sent.result().words());
      if (wait.isZero() || wait.isNegative()) {
        return 0;
      }
      if (cluster.coordinators() == null) {
        out.println("(not confirmed: " + cluster.noCoordinators() + ")");
        return 0;
      }
      confirm(cluster, sent.result().confirmation(), sent.sentNanos(), repliedAt + wait.toNanos());
      return 0;
    }
  }

  /**
   * Calls the node's admin service, after checking that the node at that address is the one named
   * (a node restarted elsewhere, or a mistyped --node-address, must not be changed by mistake).
   */
  private <T> Sent<T> withAdmin(String address, Cluster cluster, AdminCall<T> call) {
    try (NodeAdmin admin =
        new NodeAdmin(address, coordinatorOption.credentials("admin", Role.NODE))) {
      FaultsReply before;
      try {
        before = admin.faults();
      } catch (StatusRuntimeException e) {
        throw new IllegalStateException(
            node
                + " at "
                + address
                + " did not answer: "
                + Coordinators.explain(e)
                + cluster.stateOf(node)
                + (unknownHost(e) ? elsewhere(address) : ""),
            e);
      }
      if (!before.getNodeId().equals(node)) {
        throw new IllegalArgumentException(
            "the node at "
                + address
                + " is "
                + before.getNodeId()
                + ", not "
                + node
                + "; nothing was changed");
      }
      try {
        long sentNanos = System.nanoTime();
        return new Sent<>(call.call(admin, before), sentNanos);
      } catch (StatusRuntimeException e) {
        throw new IllegalStateException(
            node + " at " + address + " refused: " + Coordinators.explain(e), e);
      }
    }
  }

  /** One coordinator while the CLI waits for it to show the change. */
  private static final class Pending {
    final int index;
    String name;
    String notYet = "it did not answer";

    Pending(int index, String name) {
      this.index = index;
      this.name = name;
    }
  }

  /**
   * Prints one line per coordinator: it already showed the change before it was made, it came to
   * show it so many ms after the change was sent, or it did not show it by {@code deadlineNanos}
   * (polling every {@link #POLL} meanwhile).
   */
  private void confirm(
      Cluster cluster, Confirmation confirmation, long sentNanos, long deadlineNanos) {
    Coordinators coordinators = cluster.coordinators();
    List<Pending> pending = new ArrayList<>();
    for (int i = 0; i < coordinators.size(); i++) {
      Optional<ClusterView> before = cluster.views().get(i);
      String name =
          before
              .map(ClusterView::getCoordinatorId)
              .orElse("coordinator at " + coordinators.address(i));
      Optional<NodeView> nodeBefore = before.flatMap(v -> find(v, node));
      Optional<String> cannot = confirmation.cannotShow(nodeBefore);
      if (cannot.isPresent()) {
        out.println("not confirmed by " + name + ": " + cannot.get());
      } else if (nodeBefore.isPresent() && confirmation.shows(nodeBefore.get())) {
        out.println(alreadyLine(name, nodeBefore.get(), confirmation));
      } else {
        pending.add(new Pending(i, name));
      }
    }
    try {
      Poll.untilTrue(
          Duration.ofNanos(deadlineNanos - System.nanoTime()),
          POLL,
          () -> {
            for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
              Pending p = it.next();
              ClusterView view;
              try {
                view = coordinators.view(p.index, VIEW_DEADLINE.toMillis());
              } catch (StatusRuntimeException e) {
                p.notYet = "it did not answer (" + Coordinators.explain(e) + ")";
                continue;
              }
              long received = System.nanoTime();
              p.name = view.getCoordinatorId();
              Optional<NodeView> nv = find(view, node);
              if (nv.isEmpty()) {
                p.notYet = "it does not know " + node;
              } else if (confirmation.shows(nv.get())) {
                long afterMs = confirmation.seenAfterMs(nv.get(), sentNanos, received);
                out.println(
                    afterMs < 0
                        ? alreadyLine(p.name, nv.get(), confirmation)
                        : seenLine(p.name, afterMs, nv.get(), confirmation));
                it.remove();
              } else {
                p.notYet = confirmation.notYet(nv.get());
              }
            }
            return pending.isEmpty();
          });
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // say what is not confirmed yet, and stop
    }
    for (Pending p : pending) {
      out.println(notConfirmedLine(p.name, wait, p.notYet));
    }
  }

  /** "coordinator-1 sees it after 412 ms: node-2 SUSPECT (no heartbeat for 310 ms ...)" */
  static String seenLine(
      String coordinator, long afterMs, NodeView view, Confirmation confirmation) {
    if (afterMs < 0) {
      throw new IllegalArgumentException("seen after a negative time: " + afterMs + " ms");
    }
    return coordinator + " sees it after " + afterMs + " ms: " + what(view, confirmation);
  }

  /**
   * "coordinator-1 already sees it: node-2 DEAD (...)": it showed this before the change was sent
   * (the node was already silent, or already had these faults).
   */
  static String alreadyLine(String coordinator, NodeView view, Confirmation confirmation) {
    return coordinator + " already sees it: " + what(view, confirmation);
  }

  private static String what(NodeView view, Confirmation confirmation) {
    return confirmation instanceof Confirmation.InState
        ? view.getNodeId() + " " + view.getState() + " (" + view.getLastTransitionReason() + ")"
        : view.getNodeId()
            + "'s heartbeats report "
            + FaultWords.describeOr(view.getFaults(), "no faults");
  }

  /** "not confirmed by coordinator-1 within 3 s: its cluster view does not report node faults" */
  static String notConfirmedLine(String coordinator, Duration wait, String why) {
    String within = wait.toMillis() % 1000 == 0 ? wait.toSeconds() + " s" : wait.toMillis() + " ms";
    return "not confirmed by " + coordinator + " within " + within + ": " + why;
  }

  private static String words(FaultsReply reply) {
    return reply.getDescription().isEmpty() ? "no faults" : reply.getDescription();
  }

  private static Optional<NodeView> find(ClusterView view, String node) {
    return view.getNodesList().stream().filter(n -> n.getNodeId().equals(node)).findFirst();
  }

  // ---- finding the node ----

  /**
   * The coordinators, and their views as first seen.
   *
   * @param coordinators null when none could be found (then {@code noCoordinators} says why)
   * @param views one per coordinator, empty when it did not answer
   * @param problems one per coordinator: why it did not answer (or "")
   */
  private record Cluster(
      Coordinators coordinators,
      List<Optional<ClusterView>> views,
      List<String> problems,
      String noCoordinators)
      implements AutoCloseable {

    @Override
    public void close() {
      if (coordinators != null) {
        coordinators.close();
      }
    }

    /** "; coordinator-1 has it DEAD" when the views know the node, for error messages. */
    String stateOf(String node) {
      List<String> states = new ArrayList<>();
      for (Optional<ClusterView> v : views) {
        v.flatMap(view -> find(view, node))
            .ifPresent(n -> states.add(v.get().getCoordinatorId() + " has it " + n.getState()));
      }
      return states.isEmpty() ? "" : "; " + String.join(", ", states);
    }
  }

  /**
   * The coordinators and their views. Without {@code --node-address} they are needed to find the
   * node; with it, only to confirm, and the command goes on without them.
   */
  private Cluster cluster() {
    List<String> addresses;
    try {
      addresses = coordinatorOption.resolve();
    } catch (IllegalStateException e) {
      if (nodeAddress == null) {
        throw new IllegalStateException(
            e.getMessage() + ", or give the node's address with --node-address HOST:PORT", e);
      }
      return new Cluster(null, List.of(), List.of(), e.getMessage());
    }
    Coordinators coordinators =
        Coordinators.connected(addresses, coordinatorOption.credentials("admin", Role.COORDINATOR));
    List<Optional<ClusterView>> views = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    for (int i = 0; i < coordinators.size(); i++) {
      try {
        views.add(Optional.of(coordinators.view(i, VIEW_DEADLINE.toMillis())));
        problems.add("");
      } catch (StatusRuntimeException e) {
        views.add(Optional.empty());
        problems.add(
            "coordinator at "
                + coordinators.address(i)
                + " did not answer: "
                + Coordinators.explain(e));
      }
    }
    return new Cluster(coordinators, views, problems, "");
  }

  /** Whether the call failed because the node's host name means nothing here. */
  private static boolean unknownHost(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof UnknownHostException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Where the command works instead: the nodes of the Docker lab advertise names that only its own
   * network knows (node-2:7101), and their ports are not published.
   */
  private String elsewhere(String address) {
    String host = address.substring(0, address.lastIndexOf(':'));
    return ". The name "
        + host
        + " is known only where the node runs: in the Docker lab, run ftlab inside the lab's"
        + " network, e.g. `docker compose exec client ftlab chaos "
        + node
        + " ...`"
        + (nodeAddress == null
            ? "; elsewhere, give an address of the node that works from here with --node-address"
                + " HOST:PORT"
            : "");
  }

  /** Where the node is: {@code --node-address}, or its address in the freshest view that has it. */
  private String address(Cluster cluster) {
    if (nodeAddress != null) {
      if (!nodeAddress.matches("[^:\\s]+:\\d{1,5}")) {
        throw new IllegalArgumentException(
            "--node-address must be host:port, got '" + nodeAddress + "'");
      }
      return nodeAddress;
    }
    NodeView freshest = null;
    Set<String> known = new TreeSet<>();
    for (Optional<ClusterView> view : cluster.views()) {
      for (NodeView n : view.map(ClusterView::getNodesList).orElse(List.of())) {
        known.add(n.getNodeId());
        if (n.getNodeId().equals(node)
            && (freshest == null || n.getLastHeartbeatAgeMs() < freshest.getLastHeartbeatAgeMs())) {
          freshest = n;
        }
      }
    }
    if (freshest != null) {
      return freshest.getAddress();
    }
    if (cluster.views().stream().allMatch(Optional::isEmpty)) {
      throw new IllegalStateException(
          "no coordinator answered ("
              + String.join("; ", cluster.problems())
              + "), so where "
              + node
              + " is is unknown; give its address with --node-address HOST:PORT");
    }
    throw new IllegalArgumentException(
        known.isEmpty()
            ? "no node named '" + node + "': the coordinators know no node yet"
            : "no node named '" + node + "'; the coordinators know " + String.join(", ", known));
  }

  static int millis(Duration d) {
    return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
  }
}
