package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import ftlab.client.local.Member;
import ftlab.client.local.MemberProcess;
import ftlab.proto.BadRequests;
import ftlab.proto.ClusterView;
import ftlab.proto.ComputeRequest;
import ftlab.proto.CoordinatorAdminGrpc;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.CountPrimes;
import ftlab.proto.Echo;
import ftlab.proto.Error;
import ftlab.proto.Faults;
import ftlab.proto.FaultsReply;
import ftlab.proto.GetFaultsRequest;
import ftlab.proto.HeartbeatRequest;
import ftlab.proto.LeaveRequest;
import ftlab.proto.Lie;
import ftlab.proto.Load;
import ftlab.proto.MembershipGrpc;
import ftlab.proto.NodeAdminGrpc;
import ftlab.proto.ReadmitRequest;
import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyMode;
import ftlab.proto.RevokeRequest;
import ftlab.proto.SetFaultsRequest;
import ftlab.proto.SetRedundancyRequest;
import ftlab.proto.Slow;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import ftlab.proto.WorkerGrpc;
import ftlab.security.Authorization;
import ftlab.security.Identity;
import ftlab.security.LabCertificates;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.CallOptions;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Hostile input to every RPC of every ftlab server (coordinator: Coordinator, CoordinatorAdmin,
 * Membership; node: Worker, NodeAdmin) under a checked load, in plaintext and again with mutual TLS
 * on every link: bytes that are not protobuf, messages too large, values out of range, ids and
 * strings far too long, unknown methods; with TLS each from a caller the authorization table lets
 * through and from one it does not, and each method with no certificate and with a foreign
 * authority's. Each must get a clear status (never UNKNOWN, never a stack trace in the
 * description), change nothing it must not change, crash nothing, and the load must get no failure.
 */
class HostileInputIT {
  /** Where forged heartbeats say a node is: nothing listens there. */
  private static final String NOWHERE = "127.0.0.1:1";

  /** One request: where it goes, which method, what it is, its bytes. */
  private record Case(
      String server,
      MethodDescriptor<?, ?> method,
      String what,
      byte[] payload,
      Set<Status.Code> ok) {}

  /** Which methods take which parser, and whether a request that parses may be sent at all. */
  private record Rpc(
      MethodDescriptor<?, ?> method, Parser<? extends Message> parser, boolean safe) {}

  /** A status code no case may get: the server did not know what happened. */
  private static final Set<Status.Code> NEVER = Set.of(Status.Code.UNKNOWN);

  private static final Set<Status.Code> REFUSED =
      Set.of(
          Status.Code.INVALID_ARGUMENT,
          Status.Code.FAILED_PRECONDITION,
          Status.Code.NOT_FOUND,
          Status.Code.OUT_OF_RANGE,
          Status.Code.RESOURCE_EXHAUSTED);

  /** What a request that gRPC cannot parse gets: gRPC's own INTERNAL, or a refusal. */
  private static final Set<Status.Code> UNPARSEABLE =
      Set.of(Status.Code.INTERNAL, Status.Code.INVALID_ARGUMENT, Status.Code.RESOURCE_EXHAUSTED);

  private static final List<byte[]> MALFORMED =
      List.of(
          new byte[] {(byte) 0xFF}, // a tag cut short
          new byte[] {0x0A, 0x05, 0x01}, // field 1 says 5 bytes follow, 1 does
          new byte[] {0x0F, 0x01}, // wire type 7 does not exist
          new byte[] {0x0B}, // a group that never ends
          filled(11, (byte) 0xFF), // a varint longer than 10 bytes
          new byte[] {0x00, 0x01}, // field number 0
          new byte[] {0x0A, 0x02, (byte) 0xC3, 0x28}, // field 1: bad UTF-8 (or a bad message)
          new byte[] {0x12, 0x02, (byte) 0xC3, 0x28}, // field 2: the same
          new byte[] {0x1A, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, 0x0F}, // 4 GiB
          nested(200)); // deeper than protobuf's recursion limit

  private static byte[] filled(int n, byte b) {
    byte[] a = new byte[n];
    Arrays.fill(a, b);
    return a;
  }

  /** Field 2 holding field 2 holding ... {@code depth} times: messages nested too deep. */
  private static byte[] nested(int depth) {
    byte[] inner = new byte[0];
    for (int i = 0; i < depth; i++) {
      byte[] outer = new byte[inner.length + 1 + varintSize(inner.length)];
      outer[0] = 0x12;
      int at = writeVarint(outer, 1, inner.length);
      System.arraycopy(inner, 0, outer, at, inner.length);
      inner = outer;
    }
    return inner;
  }

  private static int varintSize(int v) {
    int n = 1;
    while ((v >>>= 7) != 0) {
      n++;
    }
    return n;
  }

  private static int writeVarint(byte[] into, int at, int v) {
    while ((v & ~0x7F) != 0) {
      into[at++] = (byte) ((v & 0x7F) | 0x80);
      v >>>= 7;
    }
    into[at++] = (byte) v;
    return at;
  }

  private static String repeat(char c, int n) {
    return String.valueOf(c).repeat(n);
  }

  /** Every method of every service, with its parser and whether a parseable request is safe. */
  private static List<Rpc> rpcs() {
    return List.of(
        new Rpc(CoordinatorGrpc.getSubmitMethod(), SubmitRequest.parser(), true),
        new Rpc(
            CoordinatorGrpc.getGetClusterMethod(), ftlab.proto.GetClusterRequest.parser(), true),
        new Rpc(CoordinatorAdminGrpc.getSetRedundancyMethod(), SetRedundancyRequest.parser(), true),
        new Rpc(CoordinatorAdminGrpc.getReadmitMethod(), ReadmitRequest.parser(), true),
        // a request that parses revokes what it names, which is what it is for
        new Rpc(CoordinatorAdminGrpc.getRevokeMethod(), RevokeRequest.parser(), false),
        new Rpc(MembershipGrpc.getHeartbeatMethod(), HeartbeatRequest.parser(), true),
        new Rpc(MembershipGrpc.getLeaveMethod(), LeaveRequest.parser(), true),
        new Rpc(WorkerGrpc.getComputeMethod(), ComputeRequest.parser(), true),
        new Rpc(NodeAdminGrpc.getSetFaultsMethod(), SetFaultsRequest.parser(), true),
        new Rpc(NodeAdminGrpc.getHealMethod(), ftlab.proto.HealRequest.parser(), true),
        new Rpc(NodeAdminGrpc.getGetFaultsMethod(), GetFaultsRequest.parser(), true),
        // any request that parses crashes the node: that is what it is for
        new Rpc(NodeAdminGrpc.getCrashMethod(), ftlab.proto.CrashRequest.parser(), false));
  }

  private static boolean onNode(MethodDescriptor<?, ?> m) {
    String service = m.getServiceName();
    return service.equals(WorkerGrpc.SERVICE_NAME) || service.equals(NodeAdminGrpc.SERVICE_NAME);
  }

  private static boolean parses(Parser<? extends Message> parser, byte[] payload) {
    try {
      parser.parseFrom(payload);
      return true;
    } catch (InvalidProtocolBufferException e) {
      return false;
    }
  }

  private static List<Case> cases() {
    List<Case> cases = new ArrayList<>();
    Random random = new Random(20261203);
    for (Rpc rpc : rpcs()) {
      String server = onNode(rpc.method()) ? "node-1" : "coordinator-1";
      List<byte[]> payloads = new ArrayList<>(MALFORMED);
      for (int i = 0; i < 24; i++) {
        byte[] b = new byte[1 + random.nextInt(64)];
        random.nextBytes(b);
        payloads.add(b);
      }
      int n = 0;
      for (byte[] p : payloads) {
        n++;
        boolean parseable = parses(rpc.parser(), p);
        if (parseable && !rpc.safe()) {
          continue; // it would do what it is for
        }
        cases.add(
            new Case(
                server,
                rpc.method(),
                (parseable ? "bytes that parse #" : "not protobuf #") + n,
                p,
                parseable ? any() : UNPARSEABLE));
      }
      // larger than gRPC's 4 MiB limit
      cases.add(
          new Case(
              server,
              rpc.method(),
              "5 MiB",
              filled(5 << 20, (byte) 0x01),
              Set.of(Status.Code.RESOURCE_EXHAUSTED)));
    }
    semantic(cases);
    return cases;
  }

  /** Every code but UNKNOWN: for requests whose meaning the test does not pin down. */
  private static Set<Status.Code> any() {
    Set<Status.Code> all = new java.util.HashSet<>(Arrays.asList(Status.Code.values()));
    all.removeAll(NEVER);
    return all;
  }

  private static void add(
      List<Case> cases, String server, MethodDescriptor<?, ?> m, String what, Message request) {
    cases.add(new Case(server, m, what, request.toByteArray(), REFUSED));
  }

  /** Well-formed requests with values out of range: each must be refused, and change nothing. */
  private static void semantic(List<Case> cases) {
    String c1 = "coordinator-1";
    MethodDescriptor<?, ?> submit = CoordinatorGrpc.getSubmitMethod();
    MethodDescriptor<?, ?> compute = WorkerGrpc.getComputeMethod();
    Map<String, Task> badTasks = new TreeMap<>();
    badTasks.put("no task", Task.getDefaultInstance());
    badTasks.put("from > to", primes(100, 10));
    badTasks.put("negative from", primes(-5, 10));
    badTasks.put("Long.MIN_VALUE", primes(Long.MIN_VALUE, 10));
    badTasks.put("Long.MAX_VALUE", primes(Long.MAX_VALUE - 1, Long.MAX_VALUE));
    badTasks.put("a range of 10^12", primes(0, 1_000_000_000_000L));
    badTasks.put("a range of 10^18", primes(1, 1_000_000_000_000_000_000L));
    badTasks.put("echo delay -1", echo(-1, "x"));
    badTasks.put("echo delay MAX", echo(Integer.MAX_VALUE, "x"));
    badTasks.put("echo delay 1 h", echo(3_600_000, "x"));
    badTasks.put("echo of 3 MiB", echo(0, repeat('x', 3 << 20)));
    for (Map.Entry<String, Task> t : badTasks.entrySet()) {
      add(
          cases,
          c1,
          submit,
          "task: " + t.getKey(),
          SubmitRequest.newBuilder().setRequestId("fuzz").setTask(t.getValue()).build());
      add(
          cases,
          "node-1",
          compute,
          "task: " + t.getKey(),
          ComputeRequest.newBuilder().setRequestId("fuzz").setTask(t.getValue()).build());
    }
    Task good = primes(1000, 2000);
    List<Redundancy> badRedundancy =
        List.of(
            Redundancy.newBuilder().setModeValue(99).build(),
            Redundancy.newBuilder().setModeValue(-1).build(),
            Redundancy.newBuilder().setMode(RedundancyMode.VOTE).setReplicas(2).build(),
            Redundancy.newBuilder().setMode(RedundancyMode.VOTE).setReplicas(-3).build(),
            Redundancy.newBuilder().setMode(RedundancyMode.PARALLEL).setReplicas(1).build(),
            Redundancy.newBuilder().setMode(RedundancyMode.PARALLEL).setReplicas(1_000).build(),
            Redundancy.newBuilder()
                .setMode(RedundancyMode.VOTE)
                .setReplicas(Integer.MAX_VALUE)
                .build(),
            Redundancy.newBuilder()
                .setMode(RedundancyMode.VOTE)
                .setReplicas(Integer.MIN_VALUE)
                .build());
    for (Redundancy r : badRedundancy) {
      String what = "redundancy " + r.getModeValue() + " x " + r.getReplicas();
      add(
          cases,
          c1,
          submit,
          what,
          SubmitRequest.newBuilder().setRequestId("fuzz").setTask(good).setRedundancy(r).build());
      add(
          cases,
          c1,
          CoordinatorAdminGrpc.getSetRedundancyMethod(),
          what,
          SetRedundancyRequest.newBuilder().setRedundancy(r).build());
    }
    add(
        cases,
        c1,
        CoordinatorAdminGrpc.getSetRedundancyMethod(),
        "no redundancy",
        SetRedundancyRequest.getDefaultInstance());
    add(
        cases,
        c1,
        submit,
        "request id of 100 KB",
        SubmitRequest.newBuilder().setRequestId(repeat('r', 100_000)).setTask(good).build());
    for (String id : List.of("", "no-such-node", repeat('n', 100_000), "node-1")) {
      add(
          cases,
          c1,
          CoordinatorAdminGrpc.getReadmitMethod(),
          "readmit '" + abbreviate(id) + "'",
          ReadmitRequest.newBuilder().setNodeId(id).build());
    }
    for (String name :
        List.of("", repeat('n', 100_000), "node-1\nnode-2", "../../etc/passwd", "node 1", "#")) {
      for (boolean undo : List.of(false, true)) {
        add(
            cases,
            c1,
            CoordinatorAdminGrpc.getRevokeMethod(),
            (undo ? "undo revoke '" : "revoke '") + abbreviate(name) + "'",
            RevokeRequest.newBuilder().setName(name).setUndo(undo).build());
      }
    }
    long now = System.currentTimeMillis();
    Map<String, HeartbeatRequest> badBeats = new TreeMap<>();
    badBeats.put("no id", beat("", NOWHERE, now, 1).build());
    badBeats.put("no address", beat("fuzz-1", "", now, 1).build());
    badBeats.put("sequence 0", beat("fuzz-1", NOWHERE, now, 0).build());
    badBeats.put("sequence -1", beat("fuzz-1", NOWHERE, now, -1).build());
    badBeats.put("incarnation from the future", beat("fuzz-1", NOWHERE, Long.MAX_VALUE, 1).build());
    badBeats.put("id of 100 KB", beat(repeat('n', 100_000), NOWHERE, now, 1).build());
    badBeats.put("id with a newline", beat("node-1\nnode-2", NOWHERE, now, 1).build());
    badBeats.put("id with a space", beat("node 1", NOWHERE, now, 1).build());
    badBeats.put("address of 100 KB", beat("fuzz-1", repeat('a', 100_000), now, 1).build());
    badBeats.put("address without a port", beat("fuzz-1", "127.0.0.1", now, 1).build());
    badBeats.put("address with port 0", beat("fuzz-1", "127.0.0.1:0", now, 1).build());
    badBeats.put("address with port 70000", beat("fuzz-1", "127.0.0.1:70000", now, 1).build());
    badBeats.put(
        "negative capacity",
        beat("fuzz-1", NOWHERE, now, 1).setLoad(Load.newBuilder().setCapacity(-4)).build());
    badBeats.put(
        "negative load",
        beat("fuzz-1", NOWHERE, now, 1)
            .setLoad(Load.newBuilder().setCapacity(4).setInFlight(-1))
            .build());
    badBeats.put("interval -100 ms", beat("fuzz-1", NOWHERE, now, 1).setIntervalMs(-100).build());
    for (Map.Entry<String, HeartbeatRequest> b : badBeats.entrySet()) {
      add(cases, c1, MembershipGrpc.getHeartbeatMethod(), "heartbeat: " + b.getKey(), b.getValue());
    }
    for (String id : List.of("", repeat('n', 100_000))) {
      add(
          cases,
          c1,
          MembershipGrpc.getLeaveMethod(),
          "leave '" + abbreviate(id) + "'",
          LeaveRequest.newBuilder().setNodeId(id).setIncarnation(1).build());
    }
    List<Faults> badFaults =
        List.of(
            Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(-1)).build(),
            Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(100).setJitterMs(-1)).build(),
            Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(Integer.MAX_VALUE)).build(),
            Faults.newBuilder().setSlow(Slow.newBuilder().setDelayMs(100).setFraction(1.5)).build(),
            Faults.newBuilder()
                .setSlow(Slow.newBuilder().setDelayMs(100).setFraction(-0.5))
                .build(),
            Faults.newBuilder()
                .setSlow(Slow.newBuilder().setDelayMs(100).setFraction(Double.NaN))
                .build(),
            Faults.newBuilder().setError(Error.newBuilder().setCode("NOT_A_CODE")).build(),
            Faults.newBuilder().setError(Error.newBuilder().setCode(repeat('E', 100_000))).build(),
            Faults.newBuilder()
                .setError(Error.newBuilder().setCode("UNAVAILABLE").setFraction(2))
                .build(),
            Faults.newBuilder().setLie(Lie.newBuilder().setFraction(Double.NaN)).build(),
            Faults.newBuilder()
                .setLie(Lie.newBuilder().setFraction(Double.POSITIVE_INFINITY))
                .build(),
            Faults.newBuilder().setLie(Lie.newBuilder().setFraction(-1)).build());
    int i = 0;
    for (Faults f : badFaults) {
      add(
          cases,
          "node-1",
          NodeAdminGrpc.getSetFaultsMethod(),
          "faults #" + ++i,
          SetFaultsRequest.newBuilder().setFaults(f).build());
    }
    // methods no server has
    for (String name :
        List.of("ftlab.v1.Coordinator/Nope", "ftlab.v1.Nope/Submit", "ftlab.v1.Worker/Submit")) {
      for (String server : List.of(c1, "node-1")) {
        cases.add(
            new Case(
                server,
                rawMethod(name),
                "unknown method",
                new byte[0],
                Set.of(Status.Code.UNIMPLEMENTED)));
      }
    }
  }

  private static String abbreviate(String s) {
    return s.length() > 20 ? s.substring(0, 8) + "...(" + s.length() + " chars)" : s;
  }

  private static Task primes(long from, long to) {
    return Task.newBuilder()
        .setCountPrimes(CountPrimes.newBuilder().setFrom(from).setTo(to))
        .build();
  }

  private static Task echo(int delayMs, String value) {
    return Task.newBuilder().setEcho(Echo.newBuilder().setDelayMs(delayMs).setValue(value)).build();
  }

  private static HeartbeatRequest.Builder beat(
      String node, String address, long incarnation, long seq) {
    return HostileHeartbeatsIT.heartbeat(node, address, incarnation, seq);
  }

  /** A unary method by name that sends and receives bytes as they are. */
  private static MethodDescriptor<byte[], byte[]> rawMethod(String fullName) {
    return MethodDescriptor.<byte[], byte[]>newBuilder()
        .setType(MethodDescriptor.MethodType.UNARY)
        .setFullMethodName(fullName)
        .setRequestMarshaller(BadRequests.RAW)
        .setResponseMarshaller(BadRequests.RAW)
        .build();
  }

  /** Sends the case's bytes as they are; returns the status it got. */
  private static Status send(ManagedChannel channel, Case c) {
    MethodDescriptor<byte[], byte[]> raw = rawMethod(c.method().getFullMethodName());
    try {
      ClientCalls.blockingUnaryCall(
          channel, raw, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), c.payload());
      return Status.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus();
    }
  }

  /** A case sent by one kind of caller, and the statuses it may get that way. */
  private record Sent(Case k, String caller, Set<Status.Code> ok) {}

  /** Who may call the method over mutual TLS: a certificate whose role the table lets through. */
  private static String rightful(MethodDescriptor<?, ?> m) {
    Set<Role> roles = Authorization.allowed(m.getFullMethodName());
    if (roles.contains(Role.ADMIN) && !m.getServiceName().equals(CoordinatorGrpc.SERVICE_NAME)) {
      return "admin";
    }
    if (roles.contains(Role.CLIENT)) {
      return "client";
    }
    if (roles.contains(Role.NODE)) {
      return FUZZ_NODE;
    }
    if (roles.contains(Role.COORDINATOR)) {
      return "coordinator-1";
    }
    return "admin"; // a method no server has: the most trusted caller, and still no such method
  }

  /** A caller the table does not let through: a node for what clients do, else a client. */
  private static String wrongful(MethodDescriptor<?, ?> m) {
    return Authorization.allowed(m.getFullMethodName()).contains(Role.CLIENT)
        ? FUZZ_NODE
        : "client";
  }

  /** A node certificate the test has the lab's authority issue: a valid node sending garbage. */
  private static final String FUZZ_NODE = "fuzz-1";

  /** With no certificate, or one from an authority of its own: turned away at the handshake. */
  private static final String NO_CERTIFICATE = "no certificate";

  private static final String FOREIGN = "a foreign authority's node-1";

  /**
   * In plaintext every case goes as it is. Over mutual TLS each goes twice: from a certificate the
   * authorization table lets through (so the bytes reach the service), and from one it does not
   * (refused before the bytes are read: PERMISSION_DENIED whatever they are); and one request per
   * RPC comes with no certificate and one with a foreign authority's (turned away at the
   * handshake).
   */
  private static List<Sent> plan(List<Case> cases, boolean tls) {
    List<Sent> plan = new ArrayList<>();
    Set<String> handshakes = new java.util.HashSet<>();
    for (Case k : cases) {
      if (!tls) {
        plan.add(new Sent(k, "plaintext", k.ok()));
        continue;
      }
      boolean unknown = k.ok().equals(Set.of(Status.Code.UNIMPLEMENTED));
      boolean membership = k.method().getServiceName().equals(MembershipGrpc.SERVICE_NAME);
      Set<Status.Code> rightful = k.ok();
      if (membership && k.ok().equals(REFUSED)) {
        // what passes the checks of a heartbeat's fields is refused by the identity check: a
        // node's certificate speaks for its own id only
        rightful = union(REFUSED, Set.of(Status.Code.PERMISSION_DENIED));
      }
      plan.add(new Sent(k, rightful(k.method()), rightful));
      Set<Status.Code> wrongful =
          unknown
              ? k.ok()
              : k.payload().length > 4 << 20
                  // refused by the table or by gRPC's size limit: whichever the server reaches
                  // first
                  ? Set.of(Status.Code.PERMISSION_DENIED, Status.Code.RESOURCE_EXHAUSTED)
                  : Set.of(Status.Code.PERMISSION_DENIED);
      plan.add(new Sent(k, wrongful(k.method()), wrongful));
      if (!unknown && handshakes.add(k.server() + " " + k.method().getFullMethodName())) {
        plan.add(new Sent(k, NO_CERTIFICATE, Set.of(Status.Code.UNAVAILABLE)));
        plan.add(new Sent(k, FOREIGN, Set.of(Status.Code.UNAVAILABLE)));
      }
    }
    return plan;
  }

  private static Set<Status.Code> union(Set<Status.Code> a, Set<Status.Code> b) {
    Set<Status.Code> u = new java.util.HashSet<>(a);
    u.addAll(b);
    return u;
  }

  /** One channel per server and kind of caller, each with its own connection. */
  private static final class Channels implements AutoCloseable {
    private final RunningCluster cluster;
    private final boolean tls;
    private final ForeignAuthority foreign;
    private final Map<String, ManagedChannel> open = new TreeMap<>();

    Channels(RunningCluster cluster, boolean tls) throws Exception {
      this.cluster = cluster;
      this.tls = tls;
      if (tls) {
        LabCertificates.openOrCreate(cluster.cluster.tlsFolder(), Duration.ofDays(1))
            .issue(new Identity(Role.NODE, FUZZ_NODE), Duration.ofDays(1));
        foreign = new ForeignAuthority(new Identity(Role.NODE, "node-1"));
      } else {
        foreign = null;
      }
    }

    ManagedChannel to(String server, String caller) throws Exception {
      String key = server + " as " + caller;
      ManagedChannel c = open.get(key);
      if (c == null) {
        c =
            Grpc.newChannelBuilder(
                    cluster.cluster.member(server).address(), credentials(server, caller))
                .build();
        open.put(key, c);
      }
      return c;
    }

    private ChannelCredentials credentials(String server, String caller) throws Exception {
      if (!tls || caller.equals(NO_CERTIFICATE)) {
        return InsecureChannelCredentials.create();
      }
      if (caller.equals(FOREIGN)) {
        return foreign.credentials();
      }
      Role serverRole = server.startsWith("node-") ? Role.NODE : Role.COORDINATOR;
      return TlsFiles.read(cluster.cluster.tlsFolder(), caller).channel(serverRole);
    }

    @Override
    public void close() throws java.io.IOException {
      open.values().forEach(ManagedChannel::shutdownNow);
      if (foreign != null) {
        foreign.close();
      }
    }
  }

  @Test
  void everyRpcSurvivesHostileInputWithAClearStatus() throws Exception {
    survives(false);
  }

  @Test
  void overMutualTlsEveryRpcSurvivesHostileInputFromEveryKindOfCaller() throws Exception {
    survives(true);
  }

  private void survives(boolean tls) throws Exception {
    List<Sent> plan = plan(cases(), tls);
    try (RunningCluster c = new RunningCluster(2, 3, tls);
        Channels channels = new Channels(c, tls)) {
      ClusterProbe p = c.probe;
      p.startLoad();
      p.awaitMoreAnswers(40);
      // under the load already: what the load itself starts is no growth the input caused
      Map<String, Double> threadsBefore = gauge(c, "jvm_threads_live_threads");
      Map<String, Long> heapBefore = liveHeapMiB(c);
      Map<String, Double> refusedBefore = tls ? refusedByAuthorization(c) : Map.of();

      Map<String, Map<Status.Code, Integer>> byCaller = new TreeMap<>();
      Map<String, Integer> deniedAt = new TreeMap<>();
      // too large for gRPC and refused by the table: the server may read the size first, or
      // refuse the call first and still be told its size was too large
      Map<String, Integer> tooLargeAt = new TreeMap<>();
      List<String> wrong = new ArrayList<>();
      for (Sent sent : plan) {
        Case k = sent.k();
        Status s = send(channels.to(k.server(), sent.caller()), k);
        String caller = sent.caller().equals(FUZZ_NODE) ? "node " + FUZZ_NODE : sent.caller();
        byCaller
            .computeIfAbsent(
                k.method().getFullMethodName() + " from " + caller, x -> new TreeMap<>())
            .merge(s.getCode(), 1, Integer::sum);
        String why = s.getDescription() == null ? "" : s.getDescription();
        if (tls && s.getCode() == Status.Code.PERMISSION_DENIED && why.contains(" is for ")) {
          deniedAt.merge(k.server(), 1, Integer::sum);
        }
        if (tls
            && k.payload().length > 4 << 20
            && sent.ok().contains(Status.Code.PERMISSION_DENIED)) {
          tooLargeAt.merge(k.server(), 1, Integer::sum);
        }
        if (!sent.ok().contains(s.getCode())
            || NEVER.contains(s.getCode())
            || why.contains("Exception")
            || why.contains("\tat ")) {
          wrong.add(
              k.server()
                  + " "
                  + k.method().getFullMethodName()
                  + " ("
                  + k.what()
                  + ", from "
                  + caller
                  + "): "
                  + s.getCode()
                  + " "
                  + abbreviate(why.length() > 300 ? why.substring(0, 300) : why));
        }
      }
      System.out.printf(
          "%d hostile requests (%s), by method, caller and status:%n",
          plan.size(), tls ? "mutual TLS" : "plaintext");
      byCaller.forEach((m, codes) -> System.out.printf("  %-70s %s%n", m, codes));
      assertThat(wrong).as("requests without a clear status").isEmpty();
      assertThat(plan.size()).isGreaterThan(tls ? 900 : 450);

      // nothing crashed, nothing changed that must not change, and the load saw no failure
      p.awaitMoreAnswers(40);
      p.stopLoadAndAssertNoClientVisibleFailure();
      for (Member m : c.cluster.members()) {
        assertThat(MemberProcess.status(m))
            .as(m.name() + " still running")
            .isEqualTo(MemberProcess.ProcessStatus.RUNNING);
      }
      for (String node : List.of("node-1", "node-2", "node-3")) {
        FaultsReply f =
            NodeAdminGrpc.newBlockingStub(channels.to(node, tls ? "admin" : "plaintext"))
                .withDeadlineAfter(2, TimeUnit.SECONDS)
                .getFaults(GetFaultsRequest.getDefaultInstance());
        assertThat(f.getFaults()).as(node + "'s faults").isEqualTo(Faults.getDefaultInstance());
      }
      for (int i = 0; i < 2; i++) {
        ClusterView view = p.coordinators().view(i, 2_000);
        assertThat(view.getRedundancy().getMode())
            .isIn(RedundancyMode.FAILOVER, RedundancyMode.REDUNDANCY_MODE_UNSPECIFIED);
        assertThat(view.getSecurity().getRevokedList()).as("revoked").isEmpty();
      }
      if (tls) {
        // every call the table refused was counted by the server that refused it, one by one
        Map<String, Double> refusedAfter = refusedByAuthorization(c);
        for (String server : List.of("coordinator-1", "node-1")) {
          int denied = deniedAt.getOrDefault(server, 0);
          assertThat(refusedAfter.get(server) - refusedBefore.get(server))
              .as(server + "'s authorization refusals counted")
              .isBetween((double) denied, (double) denied + tooLargeAt.getOrDefault(server, 0))
              .isGreaterThan(100);
        }
        assertThat(
                Scrape.of(c.cluster.member("coordinator-1").metricsUrl())
                    .sum("ftlab_security_refused_total", "layer", "handshake"))
            .as("coordinator-1's handshake refusals")
            .isPositive();
      }
      Map<String, Double> threadsAfter = gauge(c, "jvm_threads_live_threads");
      System.out.printf("live threads before %s, after %s%n", threadsBefore, threadsAfter);
      Map<String, Long> heapAfter = liveHeapMiB(c);
      System.out.printf(
          "heap in use right after a full collection (MiB), before %s, after %s%n",
          heapBefore, heapAfter);
      heapBefore.forEach(
          (name, before) ->
              // what survives a full collection: a leak of 16 KiB per case would be 16 MiB more
              assertThat(heapAfter.get(name))
                  .as(name + "'s heap after a full collection, MiB")
                  .isLessThan(before + 16));
      threadsBefore.forEach(
          (name, before) ->
              // a thread or two may come and go with gRPC's executors; a leak per request would
              // be hundreds
              assertThat(threadsAfter.get(name)).as(name + "'s threads").isLessThan(before + 8));
    }
  }

  /** Calls each member's authorization layer refused so far. */
  private static Map<String, Double> refusedByAuthorization(RunningCluster c) {
    return gauge(c, "ftlab_security_refused_total", "layer", "authorization");
  }

  /** One gauge of every member (summed over the series with these labels), by member name. */
  private static Map<String, Double> gauge(RunningCluster c, String name, String... labels) {
    Map<String, Double> out = new TreeMap<>();
    for (Member m : c.cluster.members()) {
      out.put(m.name(), Scrape.of(m.metricsUrl()).sum(name, labels));
    }
    return out;
  }

  /**
   * Each member's heap in use right after a full collection (jcmd PID GC.run), in MiB: what is
   * still referenced, not what the next collection would free. The load goes on meanwhile, so a few
   * MiB of new garbage may already be in it.
   */
  private static Map<String, Long> liveHeapMiB(RunningCluster c) throws Exception {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Map<String, Long> out = new TreeMap<>();
    for (Member m : c.cluster.members()) {
      Process gc =
          new ProcessBuilder(jcmd.toString(), String.valueOf(m.pid()), "GC.run")
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      assertThat(gc.waitFor(30, java.util.concurrent.TimeUnit.SECONDS))
          .as("jcmd " + m.pid() + " GC.run (" + m.name() + ") within 30 s")
          .isTrue();
      assertThat(gc.exitValue()).as("jcmd GC.run's exit code for " + m.name()).isZero();
      double bytes = Scrape.of(m.metricsUrl()).sum("jvm_memory_used_bytes", "area", "heap");
      out.put(m.name(), Math.round(bytes / (1 << 20)));
    }
    return out;
  }
}
