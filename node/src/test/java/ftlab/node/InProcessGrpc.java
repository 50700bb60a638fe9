package ftlab.node;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.util.ArrayDeque;
import java.util.Deque;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The in-process gRPC transport for one test: real calls (deadlines, cancellation, status codes,
 * servers that stop and start again) without sockets or mocked stubs. Everything opened through it
 * is shut down after the test, newest first, like grpc-testing's {@code GrpcCleanupRule} does for
 * JUnit 4.
 *
 * <p>Use it as {@code @RegisterExtension final InProcessGrpc grpc = new InProcessGrpc();}.
 */
final class InProcessGrpc implements AfterEachCallback {
  private final Deque<Runnable> cleanups = new ArrayDeque<>();

  /**
   * A server name no other test uses. In-process names are global to the JVM, so reusing one would
   * connect a test to another test's server.
   */
  static String uniqueName(String label) {
    return label + "-" + InProcessServerBuilder.generateName();
  }

  /** A channel to the in-process server called {@code name}, which may not exist yet. */
  ManagedChannel channel(String name) {
    ManagedChannel channel = InProcessChannelBuilder.forName(name).build();
    afterTest(channel::shutdownNow);
    return channel;
  }

  /**
   * A channel to {@code name} that delivers replies on the calling thread. With a server that runs
   * its handlers on the calling thread too ({@link FakeCoordinator}), a call is over when the
   * method that made it returns: a test that advances a fake clock by one beat finds the beat
   * delivered and answered at once.
   */
  ManagedChannel directChannel(String name) {
    ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    afterTest(channel::shutdownNow);
    return channel;
  }

  /** Remembers a started server, to be stopped after the test. */
  Server register(Server server) {
    afterTest(server::shutdownNow);
    return server;
  }

  /** Runs {@code cleanup} after the test, before everything registered earlier. */
  void afterTest(Runnable cleanup) {
    synchronized (cleanups) {
      cleanups.push(cleanup);
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    while (true) {
      Runnable next;
      synchronized (cleanups) {
        next = cleanups.poll();
      }
      if (next == null) {
        return;
      }
      next.run();
    }
  }
}
