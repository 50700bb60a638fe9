package ftlab.client.watch;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.util.List;
import java.util.Map;

/**
 * Counts and latencies of a watch, over the whole run or one reporting interval. Its JSON form (for
 * {@code ftlab watch --json}) uses these names in snake_case: sent, ok, failed, wrong, retried,
 * attempts, p50_ms, p99_ms, max_ms, by_node, duration_s, coordinator_failovers, errors.
 *
 * @param retried answers that needed a retry inside a coordinator (an attempt failed first)
 * @param attempts attempts on nodes for the answered requests, all together: more than the answers
 *     when requests were retried, hedged, run in parallel or voted on
 * @param coordinatorFailovers requests that had to go to a second coordinator
 * @param byNode answers per node id
 * @param errors the first few distinct failure messages, to say what went wrong
 */
public record Summary(
    long sent,
    long ok,
    long failed,
    long wrong,
    long retried,
    long attempts,
    long coordinatorFailovers,
    double p50Ms,
    double p99Ms,
    double maxMs,
    Map<String, Long> byNode,
    double durationS,
    List<String> errors) {

  private static final Gson JSON =
      new GsonBuilder()
          .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES)
          .disableHtmlEscaping()
          .create();

  public String toJson() {
    return JSON.toJson(this);
  }

  public static Summary fromJson(String json) {
    return JSON.fromJson(json, Summary.class);
  }

  /** Extra attempts per answered request, as a fraction: 0.05 means 5% more work on the nodes. */
  public double extraAttemptsPerAnswer() {
    long answered = ok + wrong;
    return answered == 0 ? 0 : (double) (attempts - answered) / answered;
  }

  /** Every request got a correct answer. */
  public boolean allCorrect() {
    return failed == 0 && wrong == 0;
  }
}
