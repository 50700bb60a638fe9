package ftlab.client;

import ftlab.proto.ClusterView;
import ftlab.proto.CoordinatorAdminGrpc;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.GetClusterRequest;
import ftlab.proto.ReadmitReply;
import ftlab.proto.ReadmitRequest;
import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyReply;
import ftlab.proto.SetRedundancyRequest;
import io.grpc.ChannelCredentials;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Channels to a list of coordinators, by address (host:port). */
public final class Coordinators implements AutoCloseable {
  private final List<String> addresses;
  private final List<ManagedChannel> channels = new ArrayList<>();

  /** Plaintext channels. */
  public Coordinators(List<String> addresses) {
    this(addresses, InsecureChannelCredentials.create());
  }

  /** Channels with these credentials (mutual TLS: {@link CoordinatorOption#credentials}). */
  public Coordinators(List<String> addresses, ChannelCredentials credentials) {
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("no coordinator address given");
    }
    for (String a : addresses) {
      if (!a.matches("[^:\\s]+:\\d{1,5}")) {
        throw new IllegalArgumentException(
            "coordinator address must be host:port, got '" + a + "'");
      }
      int port = Integer.parseInt(a.substring(a.lastIndexOf(':') + 1));
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port out of range in '" + a + "': " + port);
      }
    }
    this.addresses = List.copyOf(addresses);
    for (String a : addresses) {
      channels.add(
          Grpc.newChannelBuilder(a, credentials)
              // a late failed name lookup must not cut a working link (architecture.md)
              .defaultLoadBalancingPolicy("round_robin")
              .build());
    }
  }

  /** How long a command waits for its connections before its first call, at most. */
  public static final Duration CONNECT_FIRST = Duration.ofSeconds(2);

  /**
   * Channels to these coordinators, each connected (or refused) before this returns, or {@link
   * #CONNECT_FIRST} at most: for a command whose calls have short deadlines, so that a fresh JVM's
   * first call is not charged for loading its network classes and opening a connection.
   */
  public static Coordinators connected(List<String> addresses, ChannelCredentials credentials) {
    Coordinators c = new Coordinators(addresses, credentials);
    try {
      c.connect(CONNECT_FIRST);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return c;
  }

  public int size() {
    return addresses.size();
  }

  public String address(int i) {
    return addresses.get(i);
  }

  public List<String> addresses() {
    return addresses;
  }

  public ManagedChannel channel(int i) {
    return channels.get(i);
  }

  public CoordinatorGrpc.CoordinatorBlockingStub stub(int i) {
    return CoordinatorGrpc.newBlockingStub(channels.get(i));
  }

  /**
   * Starts connecting to every coordinator and waits, at most {@code atMost}, until each one is
   * connected or has failed to connect (refused, say). So the first requests' deadlines are not
   * spent opening connections, in a JVM that is still loading its network classes.
   */
  public void connect(Duration atMost) throws InterruptedException {
    CountDownLatch settled = new CountDownLatch(channels.size());
    for (ManagedChannel c : channels) {
      whenSettled(c, settled::countDown);
    }
    settled.await(atMost.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Runs {@code then} once the channel is connected, or has failed to connect, or is shut down. */
  private static void whenSettled(ManagedChannel channel, Runnable then) {
    ConnectivityState state = channel.getState(true); // true: start connecting if idle
    if (state == ConnectivityState.READY
        || state == ConnectivityState.TRANSIENT_FAILURE
        || state == ConnectivityState.SHUTDOWN) {
      then.run();
    } else {
      channel.notifyWhenStateChanged(state, () -> whenSettled(channel, then));
    }
  }

  /** The cluster as coordinator i sees it. */
  public ClusterView view(int i, long timeoutMillis) {
    return stub(i)
        .withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS)
        .getCluster(GetClusterRequest.getDefaultInstance());
  }

  /**
   * Sets coordinator i's redundancy mode through its admin service (what {@code ftlab mode} does).
   */
  public RedundancyReply setRedundancy(int i, Redundancy redundancy) {
    return CoordinatorAdminGrpc.newBlockingStub(channels.get(i))
        .withDeadlineAfter(2, TimeUnit.SECONDS)
        .setRedundancy(SetRedundancyRequest.newBuilder().setRedundancy(redundancy).build());
  }

  /** Takes a QUARANTINED node back at coordinator i (what {@code ftlab readmit} does). */
  public ReadmitReply readmit(int i, String nodeId) {
    return CoordinatorAdminGrpc.newBlockingStub(channels.get(i))
        .withDeadlineAfter(2, TimeUnit.SECONDS)
        .readmit(ReadmitRequest.newBuilder().setNodeId(nodeId).build());
  }

  /** Revokes a certificate's name at coordinator {@code i} (or takes that back). */
  public ftlab.proto.RevokeReply revoke(int i, String name, boolean undo) {
    return CoordinatorAdminGrpc.newBlockingStub(channels.get(i))
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .revoke(ftlab.proto.RevokeRequest.newBuilder().setName(name).setUndo(undo).build());
  }

  /** "connection refused" rather than "UNAVAILABLE: io exception", for people. */
  public static String explain(StatusRuntimeException e) {
    return explain(e.getStatus());
  }

  /** "connection refused" rather than "UNAVAILABLE: io exception", for people. */
  public static String explain(Status s) {
    java.util.Optional<String> tls = ftlab.security.TlsTrouble.explain(s);
    if (tls.isPresent()) {
      return s.getCode() + ": " + tls.get();
    }
    java.util.Optional<String> hint = ftlab.security.TlsTrouble.plaintextHint(s);
    if (hint.isPresent()) {
      return s.getCode() + ": " + s.getDescription() + " (" + hint.get() + ")";
    }
    if (s.getCode() == Status.Code.UNAVAILABLE && s.getCause() != null) {
      String cause = String.valueOf(s.getCause().getMessage());
      if (cause.toLowerCase().contains("connection refused")) {
        return "UNAVAILABLE: connection refused (nothing listens there)";
      }
      return "UNAVAILABLE: " + cause;
    }
    if (s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      return "DEADLINE_EXCEEDED: no answer in time";
    }
    return s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription());
  }

  @Override
  public void close() {
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels) {
      try {
        c.awaitTermination(1, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
