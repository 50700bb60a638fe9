package ftlab.coordinator.dispatch;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import ftlab.proto.ComputeRequest;
import ftlab.proto.ComputeResponse;
import ftlab.proto.Failures;
import ftlab.proto.LocalEnds;
import ftlab.proto.WorkerGrpc;
import ftlab.security.Identity;
import ftlab.security.Role;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/** {@link NodeCaller} over gRPC: one channel per node address, opened on first use. */
public final class GrpcNodeCaller implements NodeCaller, AutoCloseable {
  /**
   * How long after an attempt's timeout the call's own deadline passes. The dispatcher cancels the
   * call at the timeout; the deadline is a backstop that also reaches the node, in case the
   * cancellation does not (the connection broke meanwhile).
   */
  public static final Duration BACKSTOP = Duration.ofSeconds(1);

  private final Function<String, ManagedChannel> channelFactory;
  private final long backstopNanos;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  /**
   * This coordinator's end of each channel's connection, as the first call answered on it saw it
   * (none before): {@link #dropConnectionsFrom}. Noted once per channel: a channel that connected
   * again since (from this host's address of the time) is at worst replaced once too often.
   */
  private final Map<ManagedChannel, SocketAddress> localEnds = new ConcurrentHashMap<>();

  private volatile boolean closed;

  /**
   * @param channelFactory opens a channel to an address: TCP in production (plaintext, or mutual
   *     TLS with --tls-dir), in-process in tests
   */
  public GrpcNodeCaller(Function<String, ManagedChannel> channelFactory) {
    this(channelFactory, BACKSTOP);
  }

  /**
   * @param backstop see {@link #BACKSTOP}; tests on a fake clock make it long, so that a real-time
   *     deadline never races the fake one
   */
  public GrpcNodeCaller(Function<String, ManagedChannel> channelFactory, Duration backstop) {
    this.channelFactory = channelFactory;
    this.backstopNanos = backstop.toNanos();
  }

  @Override
  public ListenableFuture<ComputeResponse> compute(
      String address, String nodeId, ComputeRequest request, long timeoutNanos) {
    ManagedChannel channel = channel(address);
    if (channel.isShutdown()) {
      channel = channel(address); // retired a moment ago (connectAfresh): take its successor
    }
    ManagedChannel used = channel;
    WorkerGrpc.WorkerFutureStub stub =
        WorkerGrpc.newFutureStub(channel)
            .withDeadlineAfter(timeoutNanos + backstopNanos, TimeUnit.NANOSECONDS);
    if (!localEnds.containsKey(used)) {
      // until the first answer says where this channel's connection is from: no cost per call after
      stub = stub.withInterceptors(LocalEnds.to(at -> noteLocalEnd(used, at)));
    }
    Identity expected = expected(nodeId);
    if (expected != null) {
      // with mutual TLS, the process at the address must show this node's certificate
      stub = stub.withOption(ExpectedPeer.EXPECTED, expected);
    }
    ListenableFuture<ComputeResponse> call = stub.compute(request);
    Futures.addCallback(
        call,
        new FutureCallback<>() {
          @Override
          public void onSuccess(ComputeResponse response) {
            if (!response.getNodeId().isEmpty() && !response.getNodeId().equals(nodeId)) {
              retire(address, used);
            }
          }

          @Override
          public void onFailure(Throwable t) {
            // another node's certificate at this address (ExpectedPeer): as a wrong answer's id
            io.grpc.Metadata trailers = io.grpc.Status.trailersFromThrowable(t);
            String there = trailers == null ? null : trailers.get(Failures.ANSWERED_BY);
            if (there != null && !there.equals(nodeId)) {
              retire(address, used);
            }
          }
        },
        MoreExecutors.directExecutor());
    return call;
  }

  /** The identity a node's certificate names; null (no check) for an id no certificate can. */
  private static Identity expected(String nodeId) {
    try {
      return new Identity(Role.NODE, nodeId);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * Drops a connection that leads to the wrong node. Only that very channel: a later wrong answer
   * from a call that was still running on it must not drop the new one. Calls still running on it
   * finish; a call that took it just before this fails as a broken connection would (it was headed
   * to the wrong node anyway).
   */
  private boolean retire(String address, ManagedChannel channel) {
    if (channels.remove(address, channel)) {
      localEnds.remove(channel);
      channel.shutdown();
      return true;
    }
    return false;
  }

  /**
   * Connects afresh to every address whose connection's local end {@code lost} says is lost (an
   * address this host no longer has: on the network again elsewhere), each only if it is still the
   * current channel there; the old ones are let go as {@link #connectAfresh} does.
   *
   * @return each address connected to afresh, with the lost local end its connection was from
   */
  public Map<String, SocketAddress> dropConnectionsFrom(Predicate<SocketAddress> lost) {
    Map<String, SocketAddress> dropped = new TreeMap<>();
    for (Map.Entry<String, ManagedChannel> e : channels.entrySet()) {
      SocketAddress local = localEnds.get(e.getValue());
      // only that very channel: one a node's return replaced meanwhile is fresh already
      if (local != null && lost.test(local) && !closed && retire(e.getKey(), e.getValue())) {
        channel(e.getKey()).getState(true);
        dropped.put(e.getKey(), local);
      }
    }
    return dropped;
  }

  /** Notes where {@code channel}'s connection is from, unless the channel was let go meanwhile. */
  private void noteLocalEnd(ManagedChannel channel, SocketAddress at) {
    localEnds.putIfAbsent(channel, at);
    if (channel.isShutdown()) {
      localEnds.remove(channel); // retired between the answer and this note
    }
  }

  @Override
  public void reconnectNow(String address) {
    if (closed) {
      return;
    }
    ManagedChannel channel = channels.get(address);
    if (channel != null) {
      channel.resetConnectBackoff();
    }
    // connect now, so the first request to a node that just joined does not pay for the handshake
    channel(address).getState(true);
  }

  @Override
  public void connectAfresh(String address) {
    if (closed) {
      return; // a membership event that arrived while the coordinator stopped
    }
    forget(address);
    channel(address).getState(true);
  }

  /**
   * Closes the connection to an address no node has any more (its node was forgotten), so that a
   * coordinator that saw many nodes come and go does not keep a connection to each. Calls still
   * running on it finish; a later call to the address opens a new one.
   */
  public void forget(String address) {
    ManagedChannel old = channels.get(address);
    if (old != null) {
      retire(address, old);
    }
  }

  /**
   * If the connection to this address has failed and gRPC is waiting out its reconnect backoff,
   * reconnect now. Called for nodes whose heartbeats say they are alive: the backoff (up to 2
   * minutes) is right for a peer that is gone, wrong for one that is beating.
   */
  public void reconnectIfFailed(String address) {
    ManagedChannel channel = channels.get(address);
    if (channel != null && channel.getState(false) == ConnectivityState.TRANSIENT_FAILURE) {
      channel.resetConnectBackoff();
    }
  }

  private ManagedChannel channel(String address) {
    return channels.computeIfAbsent(address, channelFactory);
  }

  @Override
  public void close() {
    closed = true;
    channels.values().forEach(ManagedChannel::shutdownNow);
    localEnds.clear();
  }
}
