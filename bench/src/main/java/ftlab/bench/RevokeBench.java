package ftlab.bench;

import ftlab.client.Coordinators;
import ftlab.client.Poll;
import ftlab.client.local.Jars;
import ftlab.client.local.LocalCluster;
import ftlab.client.local.LocalLayout;
import ftlab.client.status.ViewRecorder;
import ftlab.client.watch.Outcome;
import ftlab.client.watch.TaskMix;
import ftlab.client.watch.Watch;
import ftlab.proto.Attempt;
import ftlab.proto.NodeState;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Detection and response time of a revocation: on a local cluster with mutual TLS under a steady
 * checked load, an admin revokes one node at every coordinator, as {@code ftlab revoke} does (one
 * coordinator after the other, on connections already open), and the load's own answers tell when
 * the last attempt was sent to that node: each answer says how long the coordinator had it and
 * lists its attempts with the node and the microseconds after the coordinator received the request
 * that the attempt started, so that the bench's clock alone places every attempt, late by the hop
 * back from the coordinator (no clocks of two processes compared). Then the revocation is taken
 * back and the node rejoins before the next round.
 */
@Command(
    name = "revoke",
    mixinStandardHelpOptions = true,
    description = {
      "Measure the response to 'ftlab revoke': under a steady load on a local cluster with mutual"
          + " TLS, the time from the admin's first Revoke call to each coordinator's reply and to"
          + " the last attempt any coordinator sent to the revoked node, the attempts still in"
          + " flight then, and the client-visible failures.",
      "Starts its own cluster (2 coordinators, 3 nodes, certificates in its state folder) on free"
          + " loopback ports and stops it after."
    })
public final class RevokeBench implements Callable<Integer> {

  @Option(
      names = "--rounds",
      defaultValue = "10",
      description = "Revocations (each one taken back after). Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(
      names = "--rate",
      defaultValue = "300",
      description =
          "Steady load, requests per second (the higher, the finer the last attempt is placed)."
              + " Default: ${DEFAULT-VALUE}.")
  double rate;

  @Option(names = "--nodes", defaultValue = "3", description = "Default: ${DEFAULT-VALUE}.")
  int nodes;

  /**
   * An attempt the load's answers reported, placed on the bench's clock, and the coordinator that
   * sent it.
   */
  private record Sent(String node, String coordinator, long startNanos, long endNanos) {}

  /** One revocation: when it was asked, when each coordinator replied, what the load saw. */
  private record Round(String victim, long askedNanos, List<Long> repliedNanos) {}

  private static final class Log {
    final ConcurrentLinkedQueue<Sent> attempts = new ConcurrentLinkedQueue<>();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong wrong = new AtomicLong();

    void record(Outcome o) {
      if (o.answer() == null) {
        failed.incrementAndGet();
        return;
      }
      if (o.wrong()) {
        wrong.incrementAndGet();
      }
      // when the coordinator that answered received the request: the answer's arrival minus the
      // coordinator's own time, late by the hop back to the bench (and never early, even when the
      // request went to another coordinator first); each attempt started that long after it
      long received = o.sentNanos() + o.latencyNanos() - o.answer().getCoordinatorMicros() * 1_000;
      for (Attempt a : o.answer().getAttemptsList()) {
        long start = received + a.getStartedMicros() * 1_000;
        attempts.add(
            new Sent(a.getNodeId(), o.coordinator(), start, start + a.getLatencyMicros() * 1_000));
      }
    }
  }

  @Override
  public Integer call() throws Exception {
    if (nodes < 2 || nodes > 20 || rounds < 1 || rounds > 50 || rate <= 0 || rate > 2_000) {
      throw new IllegalArgumentException(
          "need 2 <= --nodes <= 20, 1 <= --rounds <= 50 and 0 < --rate <= 2000; got "
              + nodes
              + ", "
              + rounds
              + ", "
              + rate);
    }
    LocalLayout layout = LocalLayout.onFreePorts(2, nodes, 4);
    LocalCluster cluster =
        new LocalCluster(Files.createTempDirectory("ftlab-bench-revoke-"), Jars.locate());
    List<String> coordinatorIds = List.of(layout.coordinatorName(1), layout.coordinatorName(2));
    System.err.println(
        "starting 2 coordinators and " + nodes + " nodes with mutual TLS in " + cluster.stateDir());
    cluster.up(layout, true, Duration.ofSeconds(90), System.err::println);
    Log log = new Log();
    List<Round> done = new ArrayList<>();
    try (Coordinators client =
            new Coordinators(layout.coordinatorAddresses(), cluster.credentials("client"));
        Coordinators admin =
            Coordinators.connected(layout.coordinatorAddresses(), cluster.credentials("admin"));
        ViewRecorder views = new ViewRecorder(client, Duration.ofMillis(5))) {
      // bounded: about 6 s a round plus the warm-up; the watch stops itself after this at the
      // latest
      Watch.Settings settings =
          Watch.Settings.DEFAULT
              .withRate(rate)
              .withConcurrency(16)
              .withDuration(Duration.ofSeconds(60 + 30L * rounds))
              .withTasks(new TaskMix("mix", 17, 20_000, 5));
      Watch load = new Watch(client, settings);
      CompletableFuture<?> running =
          CompletableFuture.runAsync(
              () -> {
                try {
                  load.run(log::record, s -> {}, Duration.ofSeconds(5));
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      System.err.println("warming up under load for 10 s");
      TimeUnit.SECONDS.sleep(10);
      for (int r = 0; r < rounds; r++) {
        String victim = layout.nodeName(2 + r % (nodes - 1));
        long asked = System.nanoTime();
        List<Long> replied = new ArrayList<>();
        for (int i = 0; i < admin.size(); i++) {
          admin.revoke(i, victim, false);
          replied.add(System.nanoTime());
        }
        done.add(new Round(victim, asked, replied));
        // attempts in flight end within the coordinator's attempt deadline; 3 s is well past it
        TimeUnit.SECONDS.sleep(3);
        for (int i = 0; i < admin.size(); i++) {
          admin.revoke(i, victim, true);
        }
        if (!Poll.untilTrue(
            Duration.ofSeconds(30),
            Duration.ofMillis(5),
            () -> views.allSee(victim, NodeState.ALIVE, coordinatorIds))) {
          System.err.println(victim + " did not come back ALIVE within 30 s");
        }
        TimeUnit.SECONDS.sleep(2); // answering again before the next round
        System.err.printf(Locale.ROOT, "round %d: %s revoked and readmitted%n", r + 1, victim);
      }
      load.stop();
      running.get(30, TimeUnit.SECONDS);
    } finally {
      cluster.down(Duration.ofSeconds(10), line -> {});
      cluster.deleteState();
    }
    report(done, log, layout.coordinatorAddresses());
    return 0;
  }

  private void report(List<Round> rounds, Log log, List<String> coordinatorAddresses) {
    List<Sent> attempts = new ArrayList<>(log.attempts);
    List<Double> confirmFirst = new ArrayList<>();
    List<Double> confirmAll = new ArrayList<>();
    List<Double> lastSent = new ArrayList<>();
    List<Double> lastEnded = new ArrayList<>();
    long sentAfterAllReplied = 0;
    long sentAfterItsReply = 0;
    System.out.printf(
        Locale.ROOT,
        "Revocation under load: %d rounds, %.0f requests/s, %d nodes, 2 coordinators, mutual TLS;"
            + " times in ms from the admin's first Revoke call%n%n",
        rounds.size(),
        rate,
        nodes);
    System.out.println(
        "| round | node | coordinator-1 replied | coordinator-2 replied | attempts sent to it"
            + " after the call | the last of them sent | of them, sent after their coordinator"
            + " had replied | attempts in flight at the call | the last of its attempts ended |");
    System.out.println("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
    int n = 0;
    for (Round r : rounds) {
      n++;
      long asked = r.askedNanos();
      long allReplied = Collections.max(r.repliedNanos());
      // the victim's attempts around this round (its next revocation is rounds later)
      List<Sent> mine =
          attempts.stream()
              .filter(a -> a.node().equals(r.victim()))
              .filter(a -> a.startNanos() > asked - TimeUnit.SECONDS.toNanos(2))
              .filter(a -> a.startNanos() < asked + TimeUnit.SECONDS.toNanos(3))
              .toList();
      List<Sent> after = mine.stream().filter(a -> a.startNanos() > asked).toList();
      long flying =
          mine.stream().filter(a -> a.startNanos() <= asked && a.endNanos() > asked).count();
      // each attempt against the reply of the coordinator that sent it
      long afterItsReply =
          mine.stream()
              .filter(
                  a -> {
                    int c = coordinatorAddresses.indexOf(a.coordinator());
                    return c < 0 || a.startNanos() > r.repliedNanos().get(c);
                  })
              .count();
      sentAfterItsReply += afterItsReply;
      sentAfterAllReplied += mine.stream().filter(a -> a.startNanos() > allReplied).count();
      String sent = "-";
      if (!after.isEmpty()) {
        double ms = ms(after.stream().mapToLong(Sent::startNanos).max().orElseThrow() - asked);
        lastSent.add(ms);
        sent = String.format(Locale.ROOT, "%.1f", ms);
      }
      String ended = "-";
      if (!after.isEmpty() || flying > 0) {
        double ms = ms(mine.stream().mapToLong(Sent::endNanos).max().orElseThrow() - asked);
        lastEnded.add(ms);
        ended = String.format(Locale.ROOT, "%.1f", ms);
      }
      confirmFirst.add(ms(r.repliedNanos().get(0) - asked));
      confirmAll.add(ms(allReplied - asked));
      System.out.printf(
          Locale.ROOT,
          "| %d | %s | %.1f | %.1f | %d | %s | %d | %d | %s |%n",
          n,
          r.victim(),
          ms(r.repliedNanos().get(0) - asked),
          ms(r.repliedNanos().get(1) - asked),
          after.size(),
          sent,
          afterItsReply,
          flying,
          ended);
    }
    System.out.printf(
        Locale.ROOT,
        "%nMedians: coordinator-1 replied after %.1f ms, coordinator-2 after %.1f ms. %s %s"
            + " Attempts sent to a revoked node by a coordinator after it had replied: %d (after"
            + " both had replied: %d). Whole run: %d attempts answered, %d requests failed, %d"
            + " wrong answers.%n",
        median(confirmFirst),
        median(confirmAll),
        lastSent.isEmpty()
            ? "No attempt was sent to a revoked node after the call began."
            : String.format(
                Locale.ROOT,
                "In %d of %d rounds an attempt was still sent to the node after the call began,"
                    + " the last one %.1f ms after it at the latest (median %.1f).",
                lastSent.size(),
                rounds.size(),
                Collections.max(lastSent),
                median(lastSent)),
        lastEnded.isEmpty()
            ? ""
            : String.format(
                Locale.ROOT,
                "Its last attempt ended %.1f ms after the call at the latest (median %.1f).",
                Collections.max(lastEnded),
                median(lastEnded)),
        sentAfterItsReply,
        sentAfterAllReplied,
        attempts.size(),
        log.failed.get(),
        log.wrong.get());
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    return FailoverRounds.median(sorted);
  }
}
