package ftlab.client.it;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.client.local.Member;
import ftlab.proto.ClusterView;
import ftlab.proto.CoordinatorGrpc;
import ftlab.proto.Echo;
import ftlab.proto.Failures;
import ftlab.proto.GetClusterRequest;
import ftlab.proto.SubmitRequest;
import ftlab.proto.Task;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A full coordinator refuses at once instead of queueing (its admission limit, on by default): a
 * real coordinator and one node of capacity 4 (limit 2 x 4 = 8) get 24 requests at once, each
 * holding a task slot for a second. Bounded: 24 calls, 10 s deadlines, to 127.0.0.1 only.
 */
class AdmissionIT {
  private static final int CALLS = 24;

  @Test
  void beyondTwiceItsNodesSlotsACoordinatorShedsWithTheNumbersAndNoNodeSeesTheShedRequests()
      throws Exception {
    try (RunningCluster c = new RunningCluster(1, 1)) {
      String address = c.probe.coordinators().address(0);
      ManagedChannel channel = ManagedChannelBuilder.forTarget(address).usePlaintext().build();
      ExecutorService threads = Executors.newFixedThreadPool(CALLS);
      try {
        CoordinatorGrpc.CoordinatorBlockingStub stub = CoordinatorGrpc.newBlockingStub(channel);
        Task held =
            Task.newBuilder().setEcho(Echo.newBuilder().setDelayMs(1_000).setValue("v")).build();
        stub.withDeadlineAfter(10, TimeUnit.SECONDS)
            .submit(SubmitRequest.newBuilder().setRequestId("warm").setTask(held).build());
        long answersBefore = answers(channel);
        List<String> refusals = new CopyOnWriteArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> answered = new ArrayList<>();
        for (int i = 0; i < CALLS; i++) {
          String id = "r" + i;
          answered.add(
              threads.submit(
                  () -> {
                    go.await();
                    try {
                      stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                          .submit(
                              SubmitRequest.newBuilder().setRequestId(id).setTask(held).build());
                      return true;
                    } catch (StatusRuntimeException e) {
                      assertThat(e.getStatus().getCode())
                          .as("%s: %s", id, e.getStatus())
                          .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                      assertThat(Failures.refusedAsFull(e)).as("%s: the full trailer", id).isTrue();
                      refusals.add(e.getStatus().getDescription());
                      return false;
                    }
                  }));
        }
        go.countDown();
        int ok = 0;
        for (Future<Boolean> f : answered) {
          ok += f.get(30, TimeUnit.SECONDS) ? 1 : 0;
        }
        System.out.println(ok + " answered, " + refusals.size() + " refused: " + refusals);

        // 24 at once, 8 taken on: the others refused, each with the rule's numbers
        assertThat(ok + refusals.size()).isEqualTo(CALLS);
        assertThat(ok).isGreaterThanOrEqualTo(8);
        assertThat(refusals).isNotEmpty();
        Pattern sentence =
            Pattern.compile(
                "coordinator-1 is full: (\\d+) requests in progress, the most it takes on \\(2 x"
                    + " the 4 task slots of its 1 node that may get work\\); refused at once"
                    + " rather than queued: try another coordinator or again in a moment");
        for (String r : refusals) {
          Matcher m = sentence.matcher(r);
          assertThat(m.matches()).as(r).isTrue();
          // one network thread admits one request at a time: never more than the limit taken on
          assertThat(Integer.parseInt(m.group(1))).isEqualTo(8);
        }
        // a refused request never reached the node: it answered the taken ones only
        assertThat(answers(channel) - answersBefore).isEqualTo(ok);
        // and the coordinator counted them for Prometheus
        assertThat(shedCounter(c)).isEqualTo(refusals.size());
      } finally {
        threads.shutdownNow();
        channel.shutdownNow();
      }
    }
  }

  /** The node's answers, as the coordinator counts them. */
  private static long answers(ManagedChannel channel) {
    ClusterView view =
        CoordinatorGrpc.newBlockingStub(channel)
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .getCluster(GetClusterRequest.getDefaultInstance());
    return view.getNodes(0).getAnswers();
  }

  /** ftlab_requests_shed_total on coordinator-1's GET /metrics. */
  private static long shedCounter(RunningCluster c) throws Exception {
    Member coordinator = c.cluster.member("coordinator-1");
    String body =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + coordinator.httpPort() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    Matcher m =
        Pattern.compile("(?m)^ftlab_requests_shed_total(\\{[^}]*\\})? ([0-9.eE+]+)$").matcher(body);
    assertThat(m.find()).as("ftlab_requests_shed_total in /metrics").isTrue();
    return (long) Double.parseDouble(m.group(2));
  }
}
