package ftlab.containers;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.PortBinding;
import com.github.dockerjava.api.model.Ports;
import ftlab.client.it.ClusterProbe;
import ftlab.client.local.LocalLayout;
import ftlab.security.Identity;
import ftlab.security.LabCertificates;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.output.OutputFrame;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.lifecycle.Startables;

/**
 * The docker-compose lab in miniature, for one test: coordinators and nodes as containers of the
 * project's image on a network of their own, named as in {@code docker-compose.yml} ({@code
 * coordinator-1}, {@code node-1}, ...) and configured the same way (environment variables, an init
 * process so that {@code docker stop} is a graceful leave). Coordinators publish their gRPC port on
 * 127.0.0.1 only, at a port fixed for the container's lifetime, so that a coordinator stopped and
 * started again is reached at the same address.
 *
 * <p>The faults are Docker's own, applied through the Docker API exactly as {@code docker stop},
 * {@code kill}, {@code pause} and {@code network disconnect} apply them.
 */
final class ContainerCluster implements AutoCloseable {
  private static final int COORDINATOR_PORT = 7001;
  private static final int NODE_PORT = 7101;

  private final Network network = Network.newNetwork();
  private final Map<String, GenericContainer<?>> members = new LinkedHashMap<>();
  private final List<String> coordinatorIds = new ArrayList<>();
  private final List<String> addresses = new ArrayList<>();
  private final DockerClient docker = DockerClientFactory.instance().client();
  ClusterProbe probe;

  /** With mutual TLS: the lab's authority and certificates, made here; null in plaintext. */
  private final Path certs;

  ContainerCluster(int coordinators, int nodes) throws Exception {
    this(coordinators, nodes, false);
  }

  /**
   * With {@code tls}: mutual TLS on every link. The test makes the lab's authority and a
   * certificate per member and for the client (as {@code ftlab certs} does) in a folder of its own,
   * and copies into each container only what that member holds: {@code ca.pem} and its own
   * certificate and key (the compose lab mounts one volume with every key instead).
   */
  ContainerCluster(int coordinators, int nodes, boolean tls) throws Exception {
    this.certs = tls ? Files.createTempDirectory("ftlab-containers-tls-") : null;
    try {
      start(coordinators, nodes, tls);
    } catch (Exception | Error e) {
      close(); // the folder holds the authority's key: not left behind
      throw e;
    }
  }

  private void start(int coordinators, int nodes, boolean tls) throws Exception {
    if (tls) {
      LabCertificates authority = LabCertificates.openOrCreate(certs, Duration.ofDays(1));
      for (int i = 1; i <= coordinators; i++) {
        authority.issue(new Identity(Role.COORDINATOR, "coordinator-" + i), Duration.ofDays(1));
      }
      for (int i = 1; i <= nodes; i++) {
        authority.issue(new Identity(Role.NODE, "node-" + i), Duration.ofDays(1));
      }
      authority.issue(new Identity(Role.CLIENT, "client"), Duration.ofDays(1));
    }
    String coordinatorList = "";
    // fixed, so that a restarted coordinator keeps its address; outside the ephemeral range, so
    // that no outgoing connection takes one while its coordinator is stopped
    int firstHostPort = LocalLayout.freePortBlock(coordinators);
    for (int i = 1; i <= coordinators; i++) {
      String id = "coordinator-" + i;
      int hostPort = firstHostPort + i - 1;
      coordinatorIds.add(id);
      addresses.add("127.0.0.1:" + hostPort);
      coordinatorList += (i > 1 ? "," : "") + id + ":" + COORDINATOR_PORT;
      members.put(
          id,
          member(id, "coordinator")
              .withEnv("FTLAB_PORT", "" + COORDINATOR_PORT)
              .withExposedPorts(COORDINATOR_PORT)
              .withCreateContainerCmdModifier(
                  cmd ->
                      cmd.getHostConfig()
                          .withInit(true)
                          .withPortBindings(
                              new PortBinding(
                                  Ports.Binding.bindIpAndPort("127.0.0.1", hostPort),
                                  ExposedPort.tcp(COORDINATOR_PORT))))
              .waitingFor(Wait.forLogMessage(".*coordinator " + id + " listening.*", 1)));
    }
    for (int i = 1; i <= nodes; i++) {
      String id = "node-" + i;
      members.put(
          id,
          member(id, "node")
              .withEnv("FTLAB_PORT", "" + NODE_PORT)
              .withEnv("FTLAB_ADVERTISE_HOST", id)
              .withEnv("FTLAB_COORDINATORS", coordinatorList)
              .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withInit(true))
              .waitingFor(Wait.forLogMessage(".*node " + id + " listening.*", 1)));
    }
    Startables.deepStart(members.values()).get();
    this.probe =
        tls
            ? new ClusterProbe(
                addresses, coordinatorIds, TlsFiles.read(certs, "client").channel(Role.COORDINATOR))
            : new ClusterProbe(addresses, coordinatorIds);
    for (int i = 1; i <= nodes; i++) {
      probe.awaitState("node-" + i, ftlab.proto.NodeState.ALIVE, Duration.ofSeconds(60));
    }
  }

  private GenericContainer<?> member(String id, String program) throws Exception {
    GenericContainer<?> c = new GenericContainer<>(LabImage.get());
    if (certs != null) {
      // copied in as root, readable by the image's user: the container has no other
      for (String file : List.of(TlsFiles.CA_CERTIFICATE, id + ".pem", id + ".key")) {
        c.withCopyToContainer(
            Transferable.of(Files.readAllBytes(certs.resolve(file)), 0644), "/certs/" + file);
      }
      c.withEnv("FTLAB_TLS_DIR", "/certs");
    }
    return c.withNetwork(network)
        .withNetworkAliases(id)
        .withCommand(program)
        .withEnv("FTLAB_ID", id)
        .withLogConsumer(prefixed(id))
        .withStartupTimeout(Duration.ofSeconds(60));
  }

  private static Consumer<OutputFrame> prefixed(String id) {
    return frame -> {
      String line = frame.getUtf8StringWithoutLineEnding();
      if (!line.isEmpty()) {
        System.out.println("[" + id + "] " + line);
      }
    };
  }

  /** {@code docker stop}: SIGTERM through the init process, SIGKILL after 10 s. */
  void stop(String name) {
    docker.stopContainerCmd(id(name)).withTimeout(10).exec();
  }

  /** {@code docker kill}: SIGKILL, a crash. */
  void kill(String name) {
    docker.killContainerCmd(id(name)).exec();
  }

  /** {@code docker start} of a stopped or killed container: a new process, a new incarnation. */
  void start(String name) {
    docker.startContainerCmd(id(name)).exec();
  }

  /** {@code docker pause}: every process of the container frozen (cgroup freezer). */
  void pause(String name) {
    docker.pauseContainerCmd(id(name)).exec();
  }

  void unpause(String name) {
    docker.unpauseContainerCmd(id(name)).exec();
  }

  /**
   * {@code docker network disconnect}: the container loses its interface on the lab's network. The
   * process runs on, cut off: a network partition of one.
   */
  void disconnect(String name) {
    docker
        .disconnectFromNetworkCmd()
        .withNetworkId(network.getId())
        .withContainerId(id(name))
        .exec();
  }

  /** {@code docker network connect --alias NAME}: back on the network under its name. */
  void reconnect(String name) {
    docker
        .connectToNetworkCmd()
        .withNetworkId(network.getId())
        .withContainerId(id(name))
        .withContainerNetwork(new ContainerNetwork().withAliases(name))
        .exec();
  }

  /** Whether the container's main process has exited. */
  boolean exited(String name) {
    return !Boolean.TRUE.equals(
        docker.inspectContainerCmd(id(name)).exec().getState().getRunning());
  }

  private String id(String name) {
    GenericContainer<?> c = members.get(name);
    if (c == null) {
      throw new IllegalArgumentException("no member named " + name + "; have " + members.keySet());
    }
    return c.getContainerId();
  }

  /** Removes every container and the network, whatever state they are in. */
  @Override
  public void close() {
    if (probe != null) {
      probe.close();
    }
    for (GenericContainer<?> c : members.values()) {
      try {
        if (c.getContainerId() != null
            && Boolean.TRUE.equals(
                docker.inspectContainerCmd(c.getContainerId()).exec().getState().getPaused())) {
          docker.unpauseContainerCmd(c.getContainerId()).exec();
        }
      } catch (RuntimeException e) {
        System.out.println("could not unpause " + c.getContainerId() + ": " + e.getMessage());
      }
      c.stop(); // removes the container and its volumes
    }
    try {
      network.close();
    } catch (RuntimeException e) {
      System.out.println("could not remove the network: " + e.getMessage());
    }
    if (certs != null) {
      try (var files = Files.walk(certs)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      } catch (java.io.IOException e) {
        System.out.println("could not delete " + certs + ": " + e.getMessage());
      }
    }
  }
}
