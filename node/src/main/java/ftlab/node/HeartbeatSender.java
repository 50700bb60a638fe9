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
import ftlab.proto.LocalEnds;
import ftlab.proto.MembershipGrpc;
import ftlab.security.TlsTrouble;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketAddress;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a heartbeat to every configured coordinator every interval, and says goodbye on shutdown.
 *
 * <p>Each coordinator gets its own {@link Link}, so a coordinator that is down or frozen never
 * delays the beats to the others. A beat that gets no reply is simply lost; the next one goes out
 * on schedule all the same, whether the replies are late or not (see {@link #MAX_OUT}). When a
 * coordinator comes back, the next beat re-registers the node with it: a coordinator learns about
 * nodes only from their beats, so there is nothing else to redo.
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

  /** Told every reply (what the coordinator revokes: {@link NodeServer#listenHeartbeatReplies}). */
  private final List<java.util.function.Consumer<HeartbeatReply>> replyListeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

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
      links.add(new Link(c, channelFactory.apply(c)));
    }
  }

  /** Subscribes {@code listener} to every heartbeat reply from now on, on gRPC's thread. */
  void listenReplies(java.util.function.Consumer<HeartbeatReply> listener) {
    replyListeners.add(listener);
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
    long due;
    synchronized (this) {
      due = firstTickNanos + ticks * interval.toNanos();
    }
    try {
      beat(due);
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

  /**
   * @param dueNanos when this tick was due: beats are aged by their ticks' due times, so that a
   *     tick that ran a little late does not keep the beat it sent from being given up on time
   */
  private void beat(long dueNanos) {
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
    for (Link link : links) {
      link.send(hb, dueNanos);
    }
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
          MembershipGrpc.newFutureStub(link.channel)
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
      link.channel.shutdownNow();
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
   * Beats to one coordinator waiting for their replies at most: a beat is given up when it is two
   * intervals old (it is worth nothing to the detector by then), so with one beat every interval
   * two are out at most, whatever the coordinator does with them.
   *
   * <p>Not one: a coordinator may hear the beats without its replies reaching the node. After a
   * partition, a connection's replies to the beats that reached the coordinator just before the cut
   * are unacknowledged, and once the link is back TCP sends nothing more on that connection until
   * its retransmission timer fires, up to 12 s later after a 12 s partition; the beats get through
   * meanwhile. With one beat out at a time the node gave each up at the next-but-one tick and sent
   * only every other beat: the coordinator heard one every 200 ms against its 300 ms threshold and
   * suspected the node whenever one was 100 ms late (3 times in 12 s in the partition test). A
   * frozen coordinator gets two beats queued, not more.
   */
  static final int MAX_OUT = 2;

  /** The heartbeat path to one coordinator. */
  private final class Link {
    final String target;
    final ManagedChannel channel;
    final MembershipGrpc.MembershipFutureStub stub;

    /** Whether the last beats got through; used to log only changes, not every lost beat. */
    private boolean reachable = true;

    /** Whether any beat ever got through: the first success is "registered", later ones "re-". */
    private boolean everReached;

    /** Beats lost in a row. */
    private long failuresInARow;

    /** Whether this run of lost beats already dropped a connection that looked up. */
    private boolean droppedThisRun;

    /** This node's end of the connection the last answered beat came over (null: none yet). */
    private volatile SocketAddress local;

    /** How the coordinator refused the last beats, if it refused them (null: it took them). */
    private Status.Code refusedWith;

    // the four above are read and written by the replies' callbacks, on gRPC's threads, two of
    // which may run at once (two beats out): under the link's lock

    /**
     * The beats still out, oldest first, with their ticks' due times; only the ticks touch this.
     */
    private final ArrayDeque<Out> out = new ArrayDeque<>();

    Link(String target, ManagedChannel channel) {
      this.target = target;
      this.channel = channel;
      // notes this node's end of the connection each beat's answer comes over
      this.stub =
          MembershipGrpc.newFutureStub(channel).withInterceptors(LocalEnds.to(at -> local = at));
    }

    /**
     * Gives up the beats two intervals old (by their ticks' due times, which are at least an
     * interval apart: so the beat of the next-but-one tick always is, however late either tick
     * ran), then sends {@code hb}. A frozen coordinator is sent every beat, each given up two ticks
     * later; {@link #MAX_OUT} is a bound this keeps, checked all the same.
     *
     * @param due when the tick that sends {@code hb} was due
     */
    void send(HeartbeatRequest hb, long due) {
      out.removeIf(o -> o.call().isDone());
      while (!out.isEmpty() && due - out.peekFirst().dueNanos() >= 2 * interval.toNanos()) {
        out.pollFirst().call().cancel(true); // its callback counts it as lost
      }
      if (out.size() >= MAX_OUT) {
        return;
      }
      // A deadline as a backstop only, for a beat no tick gives up on (the node froze meanwhile)
      ListenableFuture<HeartbeatReply> call =
          stub.withDeadlineAfter(2 * interval.toMillis() + 1_000, TimeUnit.MILLISECONDS)
              .heartbeat(hb);
      out.addLast(new Out(call, due));
      Futures.addCallback(
          call,
          new FutureCallback<HeartbeatReply>() {
            @Override
            public void onSuccess(HeartbeatReply reply) {
              synchronized (Link.this) {
                failuresInARow = 0;
                droppedThisRun = false;
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
              }
              for (java.util.function.Consumer<HeartbeatReply> l : replyListeners) {
                try {
                  l.accept(reply);
                } catch (RuntimeException e) {
                  log.warn("{}: a heartbeat reply's listener failed: {}", nodeId, e.toString());
                }
              }
            }

            @Override
            public void onFailure(Throwable t) {
              synchronized (Link.this) {
                lost(t);
              }
            }
          },
          MoreExecutors.directExecutor());
    }

    /** A beat failed: refused, or lost (no reply in time, no connection). Under the lock. */
    private void lost(Throwable t) {
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
      if (failuresInARow % Math.max(1, 1000 / interval.toMillis()) == 0) {
        SocketAddress from = local;
        if (!droppedThisRun
            && channel.getState(false) == ConnectivityState.READY
            && movedAway.test(from)) {
          // A connection that says it is up, from an address this node no longer has, while it
          // has another: cut off the network and connected again, it got another address
          // (Docker gives the freed one to the next container that connects). The old
          // connection's packets go nowhere, TCP retries them for many minutes, and gRPC never
          // hears of it: found by a soak on the compose lab, where such a node never came back.
          // Drop it; the next beat connects afresh. Not while the node is still cut off (a name
          // lookup then fails, and each fresh connection tries again), nor when it kept its
          // address (the old connection resumes), nor for a coordinator that is slow or frozen.
          droppedThisRun = true;
          log.info(
              "{}: the connection to coordinator {} is from {}, an address this node no longer"
                  + " has: dropping it and connecting afresh",
              nodeId,
              target,
              from);
          channel.enterIdle();
        } else {
          // gRPC waits longer and longer between reconnects (up to 2 minutes). A coordinator
          // that restarts should hear from us within a second, so cut the wait short.
          channel.resetConnectBackoff();
        }
      }
    }
  }

  /**
   * Whether a connection from this local address can no longer work: the address is not this host's
   * any more, while the host has another that is up (connected again under another address; not
   * while it is cut off from every network). Not an IP address, or none: no.
   */
  static boolean movedAway(SocketAddress local) {
    if (!(local instanceof InetSocketAddress inet) || inet.getAddress() == null) {
      return false;
    }
    try {
      if (NetworkInterface.getByInetAddress(inet.getAddress()) != null) {
        return false;
      }
      for (NetworkInterface i : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        if (i.isUp() && !i.isLoopback() && i.getInetAddresses().hasMoreElements()) {
          return true;
        }
      }
      return false;
    } catch (SocketException e) {
      return false;
    }
  }

  /** How a connection's local address is judged moved away; tests stand in for the network. */
  private volatile Predicate<SocketAddress> movedAway = HeartbeatSender::movedAway;

  /** For tests: judge local addresses with {@code check} instead of this host's interfaces. */
  void judgeLocalAddressesWith(Predicate<SocketAddress> check) {
    movedAway = check;
  }

  /** A beat out, and when the tick that sent it was due. */
  private record Out(ListenableFuture<HeartbeatReply> call, long dueNanos) {}
}
