package ftlab.node;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import ftlab.clock.Scheduler;
import ftlab.node.faults.FaultPlan;
import ftlab.proto.HeartbeatReply;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.LeaveRequest;
import ftlab.proto.Load;
import ftlab.proto.MembershipGrpc;
import ftlab.security.TlsTrouble;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a heartbeat to every configured coordinator every interval, and says goodbye on shutdown.
 *
 * <p>Each coordinator gets its own {@link Link}, so a coordinator that is down or frozen never
 * delays the beats to the others. A beat that gets no reply is simply lost; the next one goes out
 * on schedule (never two at once to the same coordinator, so a frozen coordinator cannot pile up
 * calls). When a coordinator comes back, the next beat re-registers the node with it: a coordinator
 * learns about nodes only from their beats, so there is nothing else to redo.
 *
 * <p>Injected faults: every beat reports the faults in force, so that the coordinators can show
 * them; and while the node is frozen or its heartbeats are muted, the timer keeps ticking but no
 * beat goes out, so beating resumes by itself at the next tick after the fault is lifted.
 *
 * <p>Time: the ticks and the giving up on a beat read the {@link Scheduler} the sender is given (a
 * real timer in a node process, a fake clock in tests), so tests say "three beats later" without
 * waiting for them. The goodbye ({@link #leave}) is a blocking call with a gRPC deadline, in real
 * time.
 */
final class HeartbeatSender implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger("heartbeat");

  private final String nodeId;
  private final String address;
  private final long incarnation;
  private final Duration interval;
  private final IntSupplier inFlight;
  private final int capacity;
  private final Supplier<FaultPlan> faults;
  private final List<Link> links = new ArrayList<>();
  private final AtomicLong sequence = new AtomicLong();
  private final AtomicLong redials = new AtomicLong();

  /**
   * How many intervals a link that cannot reach its coordinator keeps one connection before it
   * opens another (1 s at the default 100 ms); see {@code Link.redialIfCutOff}.
   */
  static final int REDIAL_EVERY_BEATS = 10;

  private final Scheduler clock;

  // guarded by this

  /** When the first tick was due: tick k is due at {@code firstTickNanos + k * interval}. */
  private long firstTickNanos;

  /** The number of the last tick run. */
  private long ticks;

  /** The next tick, until the beats stop. */
  private Scheduler.Cancellable nextTick;

  private boolean stopped;

  /**
   * @param address where this node's Worker service can be reached, host:port
   * @param incarnation identifies this process: it changes on every start
   * @param faults the faults in force now, read at every beat
   * @param coordinators coordinator addresses, host:port
   * @param clock the ticks, and the giving up on a beat that got no reply
   */
  HeartbeatSender(
      String nodeId,
      String address,
      long incarnation,
      Duration interval,
      IntSupplier inFlight,
      int capacity,
      Supplier<FaultPlan> faults,
      List<String> coordinators,
      Function<String, ManagedChannel> channelFactory,
      Scheduler clock) {
    this.clock = clock;
    this.nodeId = nodeId;
    this.address = address;
    this.incarnation = incarnation;
    this.interval = interval;
    this.inFlight = inFlight;
    this.capacity = capacity;
    this.faults = faults;
    for (String c : coordinators) {
      links.add(new Link(c, channelFactory));
    }
  }

  /** Sends the first beat now, and one every interval from then on. */
  synchronized void start() {
    firstTickNanos = clock.nanoTime();
    scheduleTick(0);
  }

  /**
   * At a fixed rate: tick k is due at the first tick's time plus k intervals, however long a beat
   * took to send, so the beats do not drift. Ticks missed while the process could not run (paused
   * with SIGSTOP, a long GC) are skipped, not made up in a burst of beats.
   */
  private synchronized void scheduleTick(long delayNanos) {
    if (!stopped) {
      nextTick = clock.scheduleIfRunning(this::tick, delayNanos).orElse(null);
      if (nextTick == null) {
        log.warn("{} stops beating: its timer is shutting down", nodeId);
      }
    }
  }

  private void tick() {
    synchronized (this) {
      if (stopped) {
        return;
      }
    }
    try {
      beat();
    } catch (RuntimeException e) {
      // a beat that could not be sent must not end the beating: the next tick tries again
      log.warn("{} could not send a heartbeat: {}", nodeId, e.toString());
    }
    long now = clock.nanoTime();
    long every = interval.toNanos();
    long nextDue;
    synchronized (this) {
      // the next tick, or if that is past already, the first one still to come
      ticks = Math.max(ticks + 1, (now - firstTickNanos) / every + 1);
      nextDue = firstTickNanos + ticks * every;
    }
    scheduleTick(nextDue - now);
  }

  private void beat() {
    FaultPlan now = faults.get();
    if (!now.sendsHeartbeats()) {
      return; // frozen or muted: the coordinators hear nothing, and will suspect the node
    }
    HeartbeatRequest.Builder beat =
        HeartbeatRequest.newBuilder()
            .setNodeId(nodeId)
            .setAddress(address)
            .setIncarnation(incarnation)
            .setSequence(sequence.incrementAndGet())
            .setLoad(Load.newBuilder().setInFlight(inFlight.getAsInt()).setCapacity(capacity))
            .setIntervalMs((int) interval.toMillis());
    if (!now.isHealthy()) {
      beat.setFaults(now.toProto()); // unset when healthy, as membership.proto says
    }
    HeartbeatRequest hb = beat.build();
    long sentAt = clock.nanoTime();
    for (Link link : links) {
      link.send(hb, sentAt);
    }
  }

  /** How many times a link opened a new connection because its coordinator could not be reached. */
  long redials() {
    return redials.get();
  }

  /** Stops beating. Coordinators will notice the silence unless {@link #leave} follows. */
  synchronized void stopBeating() {
    stopped = true;
    if (nextTick != null) {
      nextTick.cancel();
    }
  }

  /**
   * Tells every coordinator that this node is leaving on purpose, in parallel, waiting at most
   * {@code timeout} for their acknowledgements. A coordinator that does not hear it will see the
   * node go SUSPECT then DEAD instead, which is correct, only less precise.
   */
  void leave(String reason, Duration timeout) {
    LeaveRequest bye =
        LeaveRequest.newBuilder()
            .setNodeId(nodeId)
            .setIncarnation(incarnation)
            .setReason(reason)
            .build();
    List<ListenableFuture<?>> acks = new ArrayList<>();
    for (Link link : links) {
      acks.add(
          MembershipGrpc.newFutureStub(link.channel())
              .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
              .leave(bye));
    }
    for (int i = 0; i < links.size(); i++) {
      try {
        acks.get(i).get();
        log.info("{} told {} that it is leaving", nodeId, links.get(i).target);
      } catch (Exception e) {
        log.warn(
            "{} could not tell {} that it is leaving: {}",
            nodeId,
            links.get(i).target,
            rootMessage(e));
      }
    }
  }

  @Override
  public void close() {
    stopBeating();
    for (Link link : links) {
      link.close();
    }
  }

  /**
   * The coordinator's refusal of a beat (its id is taken by another process, its incarnation is too
   * far ahead of the coordinator's clock or its sequence number too far ahead of its last beat, the
   * coordinator's table is full, its id or address is not one the coordinator takes, its
   * certificate is not a node's or not this node's), or null if the beat failed otherwise.
   */
  private static Status refusal(Throwable t) {
    Status s = Status.fromThrowable(t);
    return switch (s.getCode()) {
      case ALREADY_EXISTS,
          FAILED_PRECONDITION,
          RESOURCE_EXHAUSTED,
          INVALID_ARGUMENT,
          PERMISSION_DENIED,
          UNAUTHENTICATED ->
          s.getDescription() == null ? null : s;
      default -> null;
    };
  }

  /** "UNAVAILABLE: io exception (Connection refused: /127.0.0.1:7002)" from a failed call. */
  private static String rootMessage(Throwable e) {
    java.util.Optional<String> tls = TlsTrouble.explain(Status.fromThrowable(e));
    if (tls.isPresent()) {
      return Status.fromThrowable(e).getCode() + ": " + tls.get();
    }
    Throwable t = e;
    while (t.getCause() != null && !(t instanceof StatusRuntimeException)) {
      t = t.getCause();
    }
    if (t instanceof StatusRuntimeException s && s.getStatus().getCause() != null) {
      return s.getStatus().getCode()
          + ": "
          + s.getStatus().getDescription()
          + " ("
          + s.getStatus().getCause().getMessage()
          + ")";
    }
    return t.getMessage();
  }

  /**
   * The heartbeat path to one coordinator: a channel of its own, replaced by a fresh one (a new
   * connection) while the coordinator cannot be reached, see {@link #REDIAL_EVERY_BEATS}.
   */
  private final class Link {
    final String target;
    private final Function<String, ManagedChannel> channelFactory;

    /** Replaced only by the ticks (one at a time), read by {@link #leave} on another thread. */
    private volatile ManagedChannel channel;

    private MembershipGrpc.MembershipFutureStub stub;

    /** When {@link #channel} was opened, on the sender's clock. */
    private long dialedAtNanos;

    /** Whether a beat to this coordinator is still waiting for its reply. */
    final AtomicBoolean pending = new AtomicBoolean();

    /** Whether the last beats got through; used to log only changes, not every lost beat. */
    volatile boolean reachable = true;

    /** Whether any beat ever got through: the first success is "registered", later ones "re-". */
    volatile boolean everReached;

    /**
     * Beats lost in a row. Written by reply callbacks on gRPC's threads, one at a time (a link
     * never has two beats out, and a callback lets the next beat go only once it is done), so a
     * volatile is enough to see the latest value.
     */
    volatile long failuresInARow;

    /** How the coordinator refused the last beats, if it refused them (null: it took them). */
    volatile Status.Code refusedWith;

    /** The beat still out, and when it was sent; only the ticks (one at a time) touch these. */
    private ListenableFuture<HeartbeatReply> out;

    private long outSentAtNanos;

    Link(String target, Function<String, ManagedChannel> channelFactory) {
      this.target = target;
      this.channelFactory = channelFactory;
      this.channel = channelFactory.apply(target);
      this.stub = MembershipGrpc.newFutureStub(channel);
      this.dialedAtNanos = clock.nanoTime();
    }

    ManagedChannel channel() {
      return channel;
    }

    void close() {
      channel.shutdownNow();
    }

    /**
     * While the coordinator cannot be reached (three beats lost in a row), a new connection as soon
     * as the one in use is {@link #REDIAL_EVERY_BEATS} intervals old, and again each time the new
     * one is: the old one may be stuck. A connection that lived through a partition waits out TCP's
     * retransmission backoff, grown to seconds, at either end: the coordinator's replies to the
     * beats that reached it just before the cut are unacknowledged, and once the link is back it
     * sends nothing more on that connection until its timer fires (up to 12 s later after a 12 s
     * partition). Meanwhile the beats got through but their replies did not, so the node gave each
     * up at the next-but-one tick: the coordinator heard a beat only every other interval, and
     * suspected the node whenever one of those was late. A fresh connection has no such history. It
     * also ends gRPC's reconnect backoff (up to 2 minutes), so a restarted coordinator hears from
     * the node within a second.
     */
    private void redialIfCutOff(long now) {
      if (reachable || now - dialedAtNanos < REDIAL_EVERY_BEATS * interval.toNanos()) {
        return;
      }
      ManagedChannel old = channel;
      channel = channelFactory.apply(target);
      stub = MembershipGrpc.newFutureStub(channel);
      dialedAtNanos = now;
      old.shutdownNow(); // no beat is out on it: send gave up the last one before this
      redials.incrementAndGet();
    }

    /**
     * Sends {@code hb}, unless the previous beat is still out and younger than two intervals (the
     * coordinator is slow or frozen: never two beats out at once). A beat two intervals old is
     * worth nothing to the detector: it is given up (cancelled) at this tick, and this one goes out
     * instead. So a frozen coordinator is sent every other beat, on any clock.
     */
    void send(HeartbeatRequest hb, long now) {
      if (pending.get()) {
        if (now - outSentAtNanos < 2 * interval.toNanos()) {
          return;
        }
        out.cancel(true); // its callback, run by the cancel, lets the next beat go
        if (pending.get()) {
          return; // its reply is being handled on another thread at this very moment
        }
      }
      redialIfCutOff(now);
      pending.set(true);
      outSentAtNanos = now;
      // A deadline as a backstop only, for a beat no tick gives up on (the node froze meanwhile)
      out =
          stub.withDeadlineAfter(2 * interval.toMillis() + 1_000, TimeUnit.MILLISECONDS)
              .heartbeat(hb);
      Futures.addCallback(
          out,
          new FutureCallback<HeartbeatReply>() {
            @Override
            public void onSuccess(HeartbeatReply reply) {
              failuresInARow = 0;
              if (!reachable || !everReached || refusedWith != null) {
                log.info(
                    "{} {} with {} ({}): it is {} there",
                    nodeId,
                    everReached ? "re-registered" : "registered",
                    reply.getCoordinatorId(),
                    target,
                    reply.getState());
              }
              reachable = true;
              everReached = true;
              refusedWith = null;
              pending.set(false);
            }

            @Override
            public void onFailure(Throwable t) {
              failuresInARow++;
              Status refusal = refusal(t);
              if (refusal != null) {
                // the coordinator is there and says no: say why at once, once for each kind of
                // refusal (its text may change with every beat: "61 s ahead", "heard 40 ms ago"),
                // and not as "cannot reach"
                failuresInARow = 0;
                if (refusal.getCode() != refusedWith) {
                  refusedWith = refusal.getCode();
                  log.warn("{}'s heartbeats are refused: {}", nodeId, refusal.getDescription());
                }
                pending.set(false);
                return;
              }
              // Three lost beats in a row, not one: the first beats of a starting process often
              // time out while the connection is still being set up.
              if (reachable && failuresInARow >= 3) {
                reachable = false;
                log.warn(
                    "{} cannot reach coordinator {}: {}; will keep trying every {} ms",
                    nodeId,
                    target,
                    t instanceof CancellationException
                        ? "no reply within " + 2 * interval.toMillis() + " ms"
                        : rootMessage(t)
                            // never connected, and hung up on: perhaps a TLS coordinator
                            + (everReached
                                ? ""
                                : TlsTrouble.plaintextHint(Status.fromThrowable(t))
                                    .map(h -> " (" + h + ")")
                                    .orElse("")),
                    interval.toMillis());
              }
              pending.set(false);
            }
          },
          MoreExecutors.directExecutor());
    }
  }
}
