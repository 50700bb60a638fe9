package ftlab.bench;

import ftlab.proto.Answer;
import ftlab.proto.ComputeRequest;
import ftlab.proto.ComputeResponse;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.SubmitRequest;
import ftlab.proto.WorkerGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC hop and nothing else, for {@code ftlab bench overhead --bare-hop}: it takes a client's
 * Submit, makes the one Compute call to its node and answers with the node's result. It is set up
 * as the coordinator's network is (one event-loop thread for both sides, handlers on it, NIO, the
 * same JVM flags) but does none of the coordinator's work (no picker, membership, deadline
 * bookkeeping, meters or guards). Run as a process of its own, its latency is what one more process
 * in the path costs on this machine; the coordinator's beyond it is the coordinator's own.
 *
 * <p>Arguments: the loopback port to listen on, the node's host:port. It prints {@code listening}
 * once it does.
 */
public final class BareHop {
  private BareHop() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: BareHop PORT NODE_HOST:PORT");
      System.exit(2);
    }
    int port = Integer.parseInt(args[0]);
    EventLoopGroup io = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    ManagedChannel channel =
        NettyChannelBuilder.forTarget(args[1])
            .usePlaintext()
            .eventLoopGroup(io)
            .channelType(NioSocketChannel.class)
            .directExecutor()
            .build();
    WorkerGrpc.WorkerStub node = WorkerGrpc.newStub(channel);
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
            .bossEventLoopGroup(io)
            .workerEventLoopGroup(io)
            .channelType(NioServerSocketChannel.class)
            .directExecutor()
            .addService(
                new CoordinatorGrpc.CoordinatorImplBase() {
                  @Override
                  public void submit(SubmitRequest request, StreamObserver<Answer> responses) {
                    long start = System.nanoTime();
                    node.withDeadlineAfter(5, TimeUnit.SECONDS)
                        .compute(
                            ComputeRequest.newBuilder()
                                .setRequestId(request.getRequestId())
                                .setTask(request.getTask())
                                .build(),
                            new StreamObserver<>() {
                              private boolean answered;

                              @Override
                              public void onNext(ComputeResponse r) {
                                answered = true;
                                responses.onNext(
                                    Answer.newBuilder()
                                        .setRequestId(request.getRequestId())
                                        .setResult(r.getResult())
                                        .setNodeId(r.getNodeId())
                                        .setCoordinatorMicros((System.nanoTime() - start) / 1_000)
                                        .build());
                                responses.onCompleted();
                              }

                              @Override
                              public void onError(Throwable t) {
                                if (!answered) { // an error after the answer: the call is done
                                  responses.onError(t);
                                }
                              }

                              @Override
                              public void onCompleted() {}
                            });
                  }
                })
            .build()
            .start();
    System.out.println("listening");
    System.out.flush();
    server.awaitTermination();
  }
}
