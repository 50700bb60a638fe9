package ftlab.coordinator.dispatch;

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
   * Calls the node's Worker.Compute and waits for the answer at most {@code timeoutNanos}.
   *
   * @throws StatusRuntimeException when the call fails; its status says how
   */
  ComputeResponse compute(String address, ComputeRequest request, long timeoutNanos);

  /**
   * The node at this address has just (re)appeared: if an earlier failure put its connection into
   * reconnect backoff, reconnect now rather than when the backoff ends.
   */
  void reconnectNow(String address);
}
