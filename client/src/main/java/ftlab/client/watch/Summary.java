package ftlab.client.watch;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.util.List;
import java.util.Map;

/**
 * Counts and latencies of a watch, over the whole run or one reporting interval. Its JSON form (for
 * {@code ftlab watch --json}) uses these names in snake_case: sent, ok, failed, wrong, retried,
 * p50_ms, p99_ms, max_ms, by_node, duration_s, coordinator_failovers, errors.
 *
 * @param retried answers that needed more than one attempt inside a coordinator
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

  /** Every request got a correct answer. */
  public boolean allCorrect() {
    return failed == 0 && wrong == 0;
  }
}
