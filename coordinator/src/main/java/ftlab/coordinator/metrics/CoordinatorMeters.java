package ftlab.coordinator.metrics;

import ftlab.coordinator.dispatch.DispatchEvent;
import ftlab.coordinator.dispatch.DispatchListener;
import ftlab.coordinator.dispatch.Dispatcher;
import ftlab.coordinator.membership.Cluster;
import ftlab.coordinator.membership.MembershipEvent;
import ftlab.coordinator.membership.NodeSnapshot;
import ftlab.coordinator.membership.NodeState;
import ftlab.proto.Answer;
import ftlab.proto.Attempt;
import ftlab.proto.AttemptOutcome;
import ftlab.proto.AttemptWords;
import ftlab.proto.Ballot;
import ftlab.proto.RedundancyMode;
import ftlab.security.DefenseScoreboard;
import ftlab.security.Refusal;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The coordinator's meters, fed by what it already decides: the dispatch's events ({@link
 * DispatchEvent}) and the membership's ({@link MembershipEvent}), plus gauges read from the cluster
 * and the dispatcher when Prometheus scrapes. Nothing in the dispatch or the membership knows about
 * meters. Every meter, its tags and when it changes: docs/metrics.md.
 *
 * <p>Thread-safe: dispatch events come from the network thread and the timers, membership events
 * from the detector's thread and heartbeats, and gauges are read on the metrics server's thread.
 */
public final class CoordinatorMeters implements DispatchListener {
  /** The buckets of the request-time histogram, in milliseconds: readable, and few. */
  static final double[] REQUEST_BUCKETS_MS = {
    1, 2, 5, 10, 20, 50, 100, 200, 300, 500, 1_000, 2_000, 5_000, 10_000
  };

  private static final String REQUESTS =
      "Requests this coordinator ended, counted as the answer or the failure is sent, by mode,"
          + " outcome (answered, failed) and the gRPC code the client got";
  private static final String DISAGREEMENTS =
      "Answered vote-mode requests whose replicas did not all give the same result (counted when"
          + " the vote is decided); a vote with no majority fails instead (ABORTED, or UNAVAILABLE"
          + " when too few replicas answered)";
  private static final String ID_CONFLICTS = "ftlab.node.id.conflicts";
  private static final String ID_CONFLICTS_HELP =
      "Processes that claimed a node id another live process held, refused (the first keeps it;"
          + " not tagged by node: a flood of forged ids must not make a meter each)";
  private static final String STALLS =
      "Times the failure detector itself did not run for a long time (this coordinator was paused"
          + " or starved of CPU) and restarted every node's silence clock";

  private final MeterRegistry registry;
  private final Cluster cluster;
  private final Map<Key, Counter> counters = new ConcurrentHashMap<>();
  private final Map<Key, Timer> timers = new ConcurrentHashMap<>();
  private final Map<String, Boolean> nodesWithGauges = new ConcurrentHashMap<>();

  /** A meter's name and tag values, to find it again without asking the registry. */
  private record Key(String name, List<String> tags) {}

  public CoordinatorMeters(MeterRegistry registry, Cluster cluster, Dispatcher dispatcher) {
    this.registry = registry;
    this.cluster = cluster;
    for (RedundancyMode m : MODES) {
      Gauge.builder("ftlab.redundancy.mode", () -> dispatcher.redundancy().mode() == m ? 1 : 0)
          .description(
              "1 for the mode this coordinator gives requests that choose none, 0 for the others;"
                  + " changes when an operator runs 'ftlab mode'")
          .tag("mode", word(m))
          .register(registry);
    }
    Gauge.builder("ftlab.redundancy.replicas", () -> dispatcher.redundancy().nodesPerRequest())
        .description(
            "Nodes that get each request at once in this coordinator's mode (1 in failover and"
                + " hedged mode)")
        .register(registry);
    Gauge.builder("ftlab.requests.running", dispatcher::requestsRunning)
        .description("Requests this coordinator is working on right now")
        .register(registry);
    FunctionCounter.builder("ftlab.requests.shed", dispatcher, Dispatcher::requestsShed)
        .description(
            "Requests refused at once with RESOURCE_EXHAUSTED because this coordinator was full:"
                + " as many in progress as its admission limit (2 x its nodes' task slots by"
                + " default)")
        .register(registry);
    Gauge.builder("ftlab.hedge.budget", () -> dispatcher.hedging().budget())
        .description(
            "Hedge tokens in hand: 10 at the start, each hedged-mode request adds 0.05 (up to 10),"
                + " each hedge sent takes 1; below 1, no hedge is sent")
        .baseUnit("tokens")
        .register(registry);
    Gauge.builder(
            "ftlab.hedge.delay",
            () -> dispatcher.hedging().baseDelayNanos() / (double) TimeUnit.SECONDS.toNanos(1))
        .description(
            "How long a hedged request waits for its first attempt before it hedges, on top of"
                + " the task's expected time: the p95 of recent attempts' extra time (the last"
                + " 500, none over 20 s old while 20 newer remain)")
        .baseUnit("seconds")
        .register(registry);
    // the counters without tags exist from the start, at 0, so that a query finds them
    counter("ftlab.vote.disagreements", DISAGREEMENTS);
    counter("ftlab.detector.stalls", STALLS);
    counter(ID_CONFLICTS, ID_CONFLICTS_HELP);
    for (NodeState s : NodeState.values()) {
      Gauge.builder("ftlab.nodes", () -> count(s))
          .description("Nodes this coordinator knows in each state, as its detector sees them now")
          .tag("state", s.name())
          .register(registry);
    }
  }

  private static final RedundancyMode[] MODES = {
    RedundancyMode.FAILOVER, RedundancyMode.HEDGED, RedundancyMode.PARALLEL, RedundancyMode.VOTE
  };

  /** Subscribes to the coordinator's events: call before it starts, so that nothing is missed. */
  public void listenTo(Dispatcher dispatcher) {
    dispatcher.listen(this);
  }

  private long count(NodeState state) {
    return cluster.nodes().stream().filter(n -> n.state() == state).count();
  }

  @Override
  public void on(DispatchEvent event) {
    if (event instanceof DispatchEvent.AttemptEnded e) {
      attemptEnded(e.attempt());
    } else if (event instanceof DispatchEvent.Answered a) {
      answered(a.answer(), a.atNanos());
    } else if (event instanceof DispatchEvent.Failed f) {
      String mode = word(f.redundancy().mode());
      String code = f.status().getCode().name();
      counter("ftlab.requests", REQUESTS, "mode", mode, "outcome", "failed", "code", code)
          .increment();
      requestTimer(mode, "failed").record(f.atNanos(), TimeUnit.NANOSECONDS);
    }
    // AttemptStarted: the attempt is counted when it ends, with its outcome
  }

  private void answered(Answer answer, long atNanos) {
    String mode = word(answer.getRedundancy().getMode());
    counter("ftlab.requests", REQUESTS, "mode", mode, "outcome", "answered", "code", "OK")
        .increment();
    requestTimer(mode, "answered").record(atNanos, TimeUnit.NANOSECONDS);
    if (answer.getTallyCount() > 1) {
      counter("ftlab.vote.disagreements", DISAGREEMENTS).increment();
      for (int i = 1; i < answer.getTallyCount(); i++) { // the winner is first
        Ballot lost = answer.getTally(i);
        for (String node : lost.getNodeIdsList()) {
          counter(
                  "ftlab.votes.outvoted",
                  "Votes a node lost: its result differed from the majority's (counted when the"
                      + " vote is decided). Enough of them quarantine the node",
                  "node",
                  node)
              .increment();
        }
      }
    }
  }

  private void attemptEnded(Attempt a) {
    String node = a.getNodeId();
    counter(
            "ftlab.attempts",
            "Attempts this coordinator made, counted when each ends, by node, kind (primary,"
                + " retry, hedge, parallel, vote) and outcome (answered, failed, cancelled:"
                + " no longer needed)",
            "node",
            node,
            "kind",
            AttemptWords.kind(a.getKind()),
            "outcome",
            a.getOutcome() == AttemptOutcome.ANSWERED
                ? "answered"
                : a.getOutcome() == AttemptOutcome.CANCELLED ? "cancelled" : "failed")
        .increment();
    if (a.getOutcome() == AttemptOutcome.FAILED) {
      counter(
              "ftlab.attempt.failures",
              "Failed attempts by node and the gRPC code they failed with (UNAVAILABLE,"
                  + " DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED...), counted when each ends",
              "node",
              node,
              "code",
              a.getFailureCode())
          .increment();
    }
  }

  private static final String SECURITY_REFUSED = "ftlab.security.refused";
  private static final String SECURITY_REFUSED_HELP =
      "Calls security refused, by the layer that caught them: handshake (a certificate not from"
          + " the lab's authority), authorization (a role calling what"
          + " it may not, or a certificate naming no ftlab identity), identity (a node's"
          + " certificate speaking for another node id), revocation (a revoked certificate),"
          + " rate_limit (a client's requests or a node's heartbeats above their rate limit,"
          + " counted in plaintext too)";

  /**
   * Shows every security layer's refusals from 0 (with TLS on), so that a dashboard sees the count
   * rise from the first refusal on.
   */
  public void countSecurityRefusals() {
    for (Refusal.Layer layer : Refusal.Layer.values()) {
      counter(SECURITY_REFUSED, SECURITY_REFUSED_HELP, "layer", layer.word());
    }
  }

  /** The TLS handshakes this coordinator's port completed: one per new connection. */
  public void countHandshakes(DefenseScoreboard defenses) {
    FunctionCounter.builder("ftlab.tls.handshakes", defenses, DefenseScoreboard::handshakes)
        .description(
            "Connections that completed a TLS handshake with this process's gRPC port (with"
                + " mutual TLS on): one per new link, since gRPC keeps connections open")
        .register(registry);
  }

  /** Counts a call that security refused. */
  public void onRefusal(DefenseScoreboard.Recorded recorded) {
    counter(SECURITY_REFUSED, SECURITY_REFUSED_HELP, "layer", recorded.refusal().layer().word())
        .increment();
  }

  /** Counts a membership event, and gives a node met for the first time its gauges. */
  public void onMembership(MembershipEvent event) {
    if (event instanceof MembershipEvent.Transition t) {
      counter(
              "ftlab.membership.transitions",
              "Node state changes as this coordinator's detector decided them, by from and to"
                  + " state (from NONE: the node joined)",
              "from",
              t.from() == null ? "NONE" : t.from().name(),
              "to",
              t.to().name())
          .increment();
      if (t.to() == NodeState.QUARANTINED) {
        counter(
                "ftlab.quarantines",
                "Times a node was quarantined for being outvoted too often",
                "node",
                t.nodeId())
            .increment();
      }
      nodeGauges(t.nodeId());
    } else if (event instanceof MembershipEvent.Restarted r) {
      counter(
              "ftlab.node.restarts",
              "Times a node came back as a new process before the detector noticed it was gone",
              "node",
              r.nodeId())
          .increment();
    } else if (event instanceof MembershipEvent.DetectorStalled) {
      counter("ftlab.detector.stalls", STALLS).increment();
    } else if (event instanceof MembershipEvent.Refused r) {
      counter(
              "ftlab.heartbeats.refused",
              "Heartbeats this coordinator refused, by reason: future_incarnation (an incarnation"
                  + " too far ahead of its clock), id_taken (another live process holds the node"
                  + " id), table_full (--max-nodes reached), sequence_jump (a sequence number far"
                  + " ahead of the beats its process could have sent)",
              "reason",
              r.kind().name().toLowerCase(Locale.ROOT))
          .increment();
      if (r.newClaim()) {
        counter(ID_CONFLICTS, ID_CONFLICTS_HELP).increment();
      }
    } else if (event instanceof MembershipEvent.Forgotten f) {
      counter(
              "ftlab.membership.forgotten",
              "DEAD or LEFT nodes taken out of the table (after --forget-after-s, or to make room),"
                  + " by the state they were in",
              "state",
              f.was().name())
          .increment();
      forgetNode(f.nodeId());
    }
  }

  /** Removes every meter of a node that was forgotten: its gauges and its counters. */
  private void forgetNode(String nodeId) {
    nodesWithGauges.remove(nodeId);
    counters.keySet().removeIf(k -> tagged(k.tags(), nodeId));
    for (Meter m : registry.getMeters()) {
      if (nodeId.equals(m.getId().getTag("node"))) {
        registry.remove(m);
      }
    }
  }

  /** Whether tag values given as name, value, name, value... include node=nodeId. */
  private static boolean tagged(List<String> tags, String nodeId) {
    for (int i = 0; i + 1 < tags.size(); i += 2) {
      if (tags.get(i).equals("node") && tags.get(i + 1).equals(nodeId)) {
        return true;
      }
    }
    return false;
  }

  private void nodeGauges(String nodeId) {
    if (nodesWithGauges.putIfAbsent(nodeId, Boolean.TRUE) != null) {
      return;
    }
    for (NodeState s : NodeState.values()) {
      nodeGauge(
          "ftlab.node.state",
          nodeId,
          n -> n.state() == s ? 1 : 0,
          "1 for the node's state as this coordinator sees it now, 0 for the other states",
          null,
          "state",
          s.name());
    }
    nodeGauge(
        "ftlab.node.heartbeat.age",
        nodeId,
        n -> n.silenceNanos() / (double) TimeUnit.SECONDS.toNanos(1),
        "Time since this coordinator accepted the node's last heartbeat (beats come every 100 ms"
            + " by default: SUSPECT after 300 ms of silence, DEAD after 600 ms)",
        "seconds");
    nodeGauge(
        "ftlab.node.load",
        nodeId,
        NodeSnapshot::inFlight,
        "Tasks the node said it was running, in its last heartbeat (from every coordinator)",
        "tasks");
    nodeGauge(
        "ftlab.node.capacity",
        nodeId,
        NodeSnapshot::capacity,
        "Tasks the node can run at once, as its heartbeats say",
        "tasks");
    Gauge.builder("ftlab.node.attempts.in.flight", () -> cluster.inFlight(nodeId))
        .description("This coordinator's attempts running on the node right now")
        .tag("node", nodeId)
        .register(registry);
  }

  private void nodeGauge(
      String name,
      String nodeId,
      ToDoubleFunction<NodeSnapshot> value,
      String description,
      String unit,
      String... tags) {
    Gauge.builder(
            name,
            () -> {
              Optional<NodeSnapshot> n = cluster.node(nodeId);
              return n.isEmpty() ? Double.NaN : value.applyAsDouble(n.get());
            })
        .description(description)
        .baseUnit(unit)
        .tag("node", nodeId)
        .tags(tags)
        .register(registry);
  }

  private Counter counter(String name, String description, String... tags) {
    return counters.computeIfAbsent(
        new Key(name, List.of(tags)),
        k -> Counter.builder(name).description(description).tags(tags).register(registry));
  }

  private Timer requestTimer(String mode, String outcome) {
    return timers.computeIfAbsent(
        new Key("ftlab.request.duration", List.of(mode, outcome)),
        k ->
            Timer.builder("ftlab.request.duration")
                .description(
                    "Time from a request's arrival at this coordinator to its answer or failure"
                        + " being sent, by mode and outcome, as a histogram: the end-to-end time"
                        + " of a request inside the cluster")
                .tags("mode", mode, "outcome", outcome)
                .serviceLevelObjectives(buckets())
                .register(registry));
  }

  private static Duration[] buckets() {
    Duration[] d = new Duration[REQUEST_BUCKETS_MS.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = Duration.ofMillis((long) REQUEST_BUCKETS_MS[i]);
    }
    return d;
  }

  private static String word(RedundancyMode m) {
    return m == RedundancyMode.REDUNDANCY_MODE_UNSPECIFIED || m == RedundancyMode.UNRECOGNIZED
        ? "unknown"
        : m.name().toLowerCase(Locale.ROOT);
  }
}
