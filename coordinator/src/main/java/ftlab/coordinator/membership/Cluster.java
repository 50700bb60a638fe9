package ftlab.coordinator.membership;

import io.grpc.SynchronizationContext;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The coordinator's live view of the cluster, shared by the gRPC threads (heartbeats, requests) and
 * the detector's timer: the pure {@link Membership} behind one lock, plus per-node counters of this
 * coordinator's own traffic.
 *
 * <p>Decide under the lock, act after it: every method changes the membership while holding the
 * lock, and hands the resulting events to the listener only after releasing it, so that a slow
 * listener (logging, reconnecting a channel) never blocks heartbeats. Events are queued while the
 * lock is held and delivered through a {@link SynchronizationContext} (grpc-java's serializing
 * queue), so the listener sees them one at a time and in the order they happened, even when several
 * threads change the membership at once.
 */
public final class Cluster {
  private final Membership membership;
  private final LongSupplier nanoClock;
  private final LongSupplier wallClock;
  private final Consumer<MembershipEvent> listener;
  private final SuspicionCounts suspicions = new SuspicionCounts();
  private final GuardCounts guards;
  private final Object lock = new Object();
  private final SynchronizationContext events =
      new SynchronizationContext(
          (thread, e) -> {
            throw new IllegalStateException("membership listener failed", e);
          });
  private final Map<String, Traffic> traffic = new ConcurrentHashMap<>();

  /** This coordinator's traffic to one node. */
  private static final class Traffic {
    final AtomicInteger inFlight = new AtomicInteger();

    /** When this coordinator last started an attempt on the node (the cluster's clock). */
    volatile long lastStartedNanos;

    /** Whether it ever did: {@link #lastStartedNanos} is set first. */
    volatile boolean started;

    final AtomicLong answers = new AtomicLong();
    final AtomicLong failedAttempts = new AtomicLong();
  }

  /**
   * @param nanoClock {@link System#nanoTime} in production, a fake clock in tests
   * @param listener receives every membership event, outside the lock
   */
  public Cluster(
      DetectorConfig config, LongSupplier nanoClock, Consumer<MembershipEvent> listener) {
    this(config, QuarantineConfig.DEFAULT, nanoClock, listener);
  }

  public Cluster(
      DetectorConfig config,
      QuarantineConfig quarantine,
      LongSupplier nanoClock,
      Consumer<MembershipEvent> listener) {
    this(
        config,
        quarantine,
        MembershipLimits.DEFAULT,
        nanoClock,
        System::currentTimeMillis,
        listener);
  }

  /**
   * @param wallClock {@link System#currentTimeMillis} in production: a node's incarnation is its
   *     start time, and one far ahead of this clock is not believed
   */
  public Cluster(
      DetectorConfig config,
      QuarantineConfig quarantine,
      MembershipLimits limits,
      LongSupplier nanoClock,
      LongSupplier wallClock,
      Consumer<MembershipEvent> listener) {
    this.membership = new Membership(config, quarantine, limits);
    this.nanoClock = nanoClock;
    this.wallClock = wallClock;
    this.guards = new GuardCounts(nanoClock);
    this.listener = suspicions.andThen(guards).andThen(listener);
  }

  public MembershipLimits limits() {
    return membership.limits();
  }

  /**
   * What became of a heartbeat: the node's state afterwards, or why it was refused.
   *
   * @param refusal null if the beat was taken
   */
  public record Beat(NodeState state, MembershipEvent.Refused refusal) {}

  public DetectorConfig config() {
    return membership.config();
  }

  /** Applies a heartbeat. */
  public Beat heartbeat(Heartbeat hb) {
    Beat beat;
    synchronized (lock) {
      long now = nanoClock.getAsLong();
      List<MembershipEvent> happened = membership.onHeartbeat(hb, now, wallClock.getAsLong());
      enqueue(happened);
      MembershipEvent.Refused refused = null;
      for (MembershipEvent e : happened) {
        if (e instanceof MembershipEvent.Refused r) {
          refused = r;
        }
      }
      beat =
          refused != null
              ? new Beat(null, refused)
              : new Beat(membership.node(hb.nodeId(), now).orElseThrow().state(), null);
    }
    events.drain();
    return beat;
  }

  public void leave(String nodeId, long incarnation, String reason) {
    synchronized (lock) {
      enqueue(membership.onLeave(nodeId, incarnation, reason, nanoClock.getAsLong()));
    }
    events.drain();
  }

  /**
   * An operator revoked the node's certificate: LEFT at once, no more work.
   *
   * @return its state after, or empty if this coordinator does not know it
   */
  public Optional<NodeState> revoke(String nodeId, String why) {
    Optional<NodeState> after;
    synchronized (lock) {
      long now = nanoClock.getAsLong();
      enqueue(membership.onRevoked(nodeId, why, now));
      after = membership.node(nodeId, now).map(NodeSnapshot::state);
    }
    events.drain();
    return after;
  }

  /** An operator took a revocation back: the node's next beat counts (ALIVE if it is LEFT). */
  public Optional<NodeState> unrevoke(String nodeId) {
    synchronized (lock) {
      membership.onUnrevoked(nodeId);
      return membership.node(nodeId, nanoClock.getAsLong()).map(NodeSnapshot::state);
    }
  }

  /** A call to the node failed in a way that suggests it is gone: evidence for the detector. */
  public void callFailed(String nodeId, String what) {
    synchronized (lock) {
      enqueue(membership.onCallFailed(nodeId, what, nanoClock.getAsLong()));
    }
    events.drain();
  }

  /**
   * A vote was decided: each node that voted, and whether the majority overruled it. May quarantine
   * nodes that are outvoted too often.
   */
  public void votes(Map<String, Boolean> outvotedByNode) {
    synchronized (lock) {
      long now = nanoClock.getAsLong();
      for (Map.Entry<String, Boolean> v : outvotedByNode.entrySet()) {
        enqueue(membership.onVote(v.getKey(), v.getValue(), now));
      }
    }
    events.drain();
  }

  /**
   * An operator takes a QUARANTINED node back.
   *
   * @throws IllegalArgumentException if the node is unknown
   * @throws IllegalStateException if it is not quarantined
   */
  public NodeState readmit(String nodeId) {
    NodeState after;
    synchronized (lock) {
      long now = nanoClock.getAsLong();
      enqueue(membership.readmit(nodeId, now));
      after = membership.node(nodeId, now).orElseThrow().state();
    }
    events.drain();
    return after;
  }

  /** Runs the failure detector once. */
  public void tick() {
    synchronized (lock) {
      enqueue(membership.tick(nanoClock.getAsLong()));
    }
    events.drain();
  }

  public List<NodeSnapshot> nodes() {
    synchronized (lock) {
      return membership.nodes(nanoClock.getAsLong());
    }
  }

  public Optional<NodeSnapshot> node(String nodeId) {
    synchronized (lock) {
      return membership.node(nodeId, nanoClock.getAsLong());
    }
  }

  /** Counts an attempt this coordinator starts on a node. Pair with {@link #attemptEnded}. */
  public void attemptStarted(String nodeId) {
    Traffic t = traffic(nodeId);
    t.lastStartedNanos = nanoClock.getAsLong();
    t.started = true;
    t.inFlight.incrementAndGet();
  }

  /**
   * How long ago this coordinator last started an attempt on the node (empty: never), to compare
   * with a {@link NodeSnapshot#silenceNanos}: both are durations on this cluster's clock.
   */
  public OptionalLong sinceLastStartedNanos(String nodeId) {
    Traffic t = traffic.get(nodeId);
    return t == null || !t.started
        ? OptionalLong.empty()
        : OptionalLong.of(nanoClock.getAsLong() - t.lastStartedNanos);
  }

  /**
   * Counts the end of an attempt that was cancelled because it was no longer needed (another
   * attempt answered first, or the vote was decided): neither an answer nor a failure.
   */
  public void attemptCancelled(String nodeId) {
    traffic(nodeId).inFlight.decrementAndGet();
  }

  /** Counts the end of an attempt, answered or failed. */
  public void attemptEnded(String nodeId, boolean answered) {
    Traffic t = traffic(nodeId);
    t.inFlight.decrementAndGet();
    (answered ? t.answers : t.failedAttempts).incrementAndGet();
  }

  /** Attempts this coordinator has in flight on the node right now. */
  public int inFlight(String nodeId) {
    Traffic t = traffic.get(nodeId);
    return t == null ? 0 : t.inFlight.get();
  }

  public long answers(String nodeId) {
    Traffic t = traffic.get(nodeId);
    return t == null ? 0 : t.answers.get();
  }

  public long failedAttempts(String nodeId) {
    Traffic t = traffic.get(nodeId);
    return t == null ? 0 : t.failedAttempts.get();
  }

  /** Heartbeats refused here since this coordinator started. */
  public long heartbeatsRefused() {
    return guards.refused();
  }

  /** Node ids that two processes claimed here (the first kept it). */
  public long idConflicts() {
    return guards.conflicts();
  }

  /** The latest refusal or conflict in words, and how long ago, if there was one. */
  public Optional<GuardEvent> latestGuardEvent() {
    GuardCounts.Latest l = guards.latest();
    return l == null
        ? Optional.empty()
        : Optional.of(new GuardEvent(l.describe(), nanoClock.getAsLong() - l.atNanos()));
  }

  /** A refusal or an id conflict, in words, and how long ago it was. */
  public record GuardEvent(String describe, long ageNanos) {}

  /** How many times the node went ALIVE -> SUSPECT here. */
  public long timesSuspected(String nodeId) {
    return suspicions.of(nodeId);
  }

  private Traffic traffic(String nodeId) {
    return traffic.computeIfAbsent(nodeId, id -> new Traffic());
  }

  /**
   * Called under the lock: queues the events in the order they happened, and drops this
   * coordinator's counters of forgotten nodes.
   */
  private void enqueue(List<MembershipEvent> happened) {
    for (MembershipEvent e : happened) {
      if (e instanceof MembershipEvent.Forgotten f) {
        // kept while attempts on it still run, so that their ends do not count below zero
        traffic.computeIfPresent(f.nodeId(), (id, t) -> t.inFlight.get() == 0 ? null : t);
      }
      events.executeLater(() -> listener.accept(e));
    }
  }
}
