package ftlab.client.admin;

import ftlab.client.CoordinatorOption;
import ftlab.client.Coordinators;
import ftlab.client.RedundancyOption;
import ftlab.proto.ClusterView;
import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyReply;
import ftlab.proto.RedundancyWords;
import ftlab.security.Role;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code ftlab mode}: show or switch the coordinators' redundancy mode. */
@Command(
    name = "mode",
    mixinStandardHelpOptions = true,
    description = {
      "Show each coordinator's redundancy mode, or switch all of them at once:",
      "  failover  one attempt at a time; another node only after a failure",
      "  hedged    a second attempt on another node if the first is slower than the recent p95",
      "  parallel  --replicas nodes at once; the first good answer wins",
      "  vote      --replicas nodes at once; the answer needs a strict majority; liars are"
          + " quarantined",
      "Requests that choose their own mode (ftlab watch --mode) keep it."
    })
public final class ModeCommand implements Callable<Integer> {
  @Mixin CoordinatorOption coordinatorOption;

  @Parameters(
      arity = "0..1",
      paramLabel = "MODE",
      description = "failover, hedged, parallel or vote; none: just show the modes")
  String mode;

  @Option(
      names = "--replicas",
      defaultValue = "0",
      description =
          "Nodes per request in parallel and vote modes. Default: each coordinator's own (its"
              + " FTLAB_REPLICAS, or the last count given here).")
  int replicas;

  @Override
  public Integer call() {
    Redundancy wanted = mode == null ? null : RedundancyOption.parse(mode, replicas);
    int ok = 0;
    List<ClusterView> seen = new ArrayList<>();
    try (Coordinators coordinators =
        Coordinators.connected(
            coordinatorOption.resolve(),
            coordinatorOption.credentials("admin", Role.COORDINATOR))) {
      for (int i = 0; i < coordinators.size(); i++) {
        String where = coordinators.address(i);
        try {
          if (wanted != null) {
            RedundancyReply reply = coordinators.setRedundancy(i, wanted);
            System.out.printf(
                "%s at %s: now %s%n",
                reply.getCoordinatorId(), where, RedundancyWords.describe(reply.getRedundancy()));
          } else {
            ClusterView v = coordinators.view(i, 2_000);
            System.out.println(describe(v, where));
            seen.add(v);
          }
          ok++;
        } catch (StatusRuntimeException e) {
          System.out.println("coordinator at " + where + ": " + Coordinators.explain(e));
        }
      }
    }
    disagreement(seen).ifPresent(System.out::println);
    return ok > 0 ? 0 : 1;
  }

  /**
   * A sentence if these coordinators are not in the same mode: after a restart a coordinator is
   * back in its FTLAB_MODE, while the others keep what 'ftlab mode' set.
   */
  static Optional<String> disagreement(List<ClusterView> views) {
    Set<String> modes = new LinkedHashSet<>();
    for (ClusterView v : views) {
      modes.add(RedundancyWords.describe(v.getRedundancy()));
    }
    if (modes.size() < 2) {
      return Optional.empty();
    }
    return Optional.of(
        "the coordinators are not in the same mode ("
            + views.stream()
                .map(v -> v.getCoordinatorId() + " " + RedundancyWords.describe(v.getRedundancy()))
                .collect(Collectors.joining(", "))
            + "): a restarted coordinator starts in its FTLAB_MODE again, the others keep what"
            + " 'ftlab mode' set; 'ftlab mode MODE' sets them all");
  }

  /** "coordinator-1 at 127.0.0.1:7001: hedged (hedge after 4.2 ms, budget 9.5 hedges)". */
  static String describe(ClusterView v, String where) {
    return String.format(
        Locale.ROOT,
        "%s at %s: %s (hedge delay %.1f ms, hedge budget %.1f)",
        v.getCoordinatorId(),
        where,
        RedundancyWords.describe(v.getRedundancy()),
        v.getHedgeDelayMicros() / 1000.0,
        v.getHedgeBudget());
  }
}
