package ftlab.coordinator.dispatch;

import com.google.common.util.concurrent.ListenableFuture;
import ftlab.clock.Scheduler;
import ftlab.proto.ComputeRequest;
import ftlab.proto.ComputeResponse;
import io.grpc.StatusRuntimeException;

/**
 * The one thing the dispatcher needs from the network: run a task on the node at an address. In
 * production it is a gRPC call ({@link GrpcNodeCaller}); tests use the same class over gRPC's
 * in-process transport.
 */
public interface NodeCaller {
  /**
   * Starts the node's Worker.Compute and returns at once. The future fails with a {@link
   * StatusRuntimeException} whose status says how the call failed. Cancelling the future cancels
   * the call.
   *
   * @param nodeId the node that should answer. An answer signed by another node means that the
   *     connection leads elsewhere (the name resolved to another container when it was opened): the
   *     answer is still returned, for the caller to refuse, and that connection is dropped, so that
   *     the next call looks the name up again.
   * @param timeoutNanos the attempt's timeout. The dispatcher enforces it itself, on its {@link
   *     Scheduler}'s clock, by cancelling the call (the node learns of it from the cancellation); a
   *     caller may add a deadline of its own as a backstop, in case a cancellation is lost.
   */
  ListenableFuture<ComputeResponse> compute(
      String address, String nodeId, ComputeRequest request, long timeoutNanos);

  /**
   * The node at this address has just (re)appeared: if an earlier failure put its connection into
   * reconnect backoff, reconnect now rather than when the backoff ends.
   */
  void reconnectNow(String address);

  /**
   * The node at this address is back after it was DEAD, or restarted: a connection opened before
   * may be dead without knowing it (after a network partition, TCP waits out retransmission
   * timeouts that grew to seconds before it sends anything again), so drop it and connect anew.
   */
  void connectAfresh(String address);
}
