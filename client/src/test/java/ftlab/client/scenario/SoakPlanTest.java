package ftlab.client.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The soak's random faults keep its rules, for every seed tried, and its file is a scenario. */
class SoakPlanTest {
  private static SoakPlan.Settings settings(long seed, Duration d, int nodes, int coordinators) {
    return new SoakPlan.Settings(seed, d, nodes, coordinators, 20, 4);
  }

  @Test
  void everySeedKeepsTheRules() throws Exception {
    for (long seed = 1; seed <= 300; seed++) {
      for (Duration d : List.of(Duration.ofMinutes(2), Duration.ofMinutes(10))) {
        for (int nodes : List.of(4, 5, 8)) {
          for (int coordinators : List.of(1, 2, 3)) {
            SoakPlan.Settings s = settings(seed, d, nodes, coordinators);
            checkRules(s, SoakPlan.faults(s));
          }
        }
        SoakPlan.Settings lab = compose(seed, d);
        checkRules(lab, SoakPlan.faults(lab));
      }
    }
  }

  private static SoakPlan.Settings compose(long seed, Duration d) {
    return new SoakPlan.Settings(Scenario.Target.COMPOSE, seed, d, 5, 2, 20, 4);
  }

  private static void checkRules(SoakPlan.Settings s, List<SoakPlan.Fault> faults) {
    long phase = SoakPlan.phaseSeconds(s.duration());
    long quietFrom = s.duration().toSeconds() - SoakPlan.QUIET.toSeconds();
    String where = "seed " + s.seed() + ", " + s.duration() + ", " + s.nodes() + " nodes: ";
    assertThat(faults).as(where + "faults").isNotEmpty();
    for (SoakPlan.Fault f : faults) {
      assertThat(f.to()).as(where + f).isGreaterThan(f.from());
      assertThat(f.to() + (f.kind().equals("lie") ? 1 : 0))
          .as(where + f + " ends before the quiet end")
          .isLessThanOrEqualTo(quietFrom);
      long phaseEnd = (f.from() / phase + 1) * phase;
      assertThat(f.to() + SoakPlan.MARGIN.toSeconds())
          .as(where + f + " ends a margin before its phase")
          .isLessThanOrEqualTo(phaseEnd);
      boolean vote = SoakPlan.votePhase(f.from(), phase);
      if (f.kind().equals("lie")) {
        assertThat(vote).as(where + f + " lies in a vote phase").isTrue();
      }
      if (f.kind().equals("coordinator kill")) {
        assertThat(vote).as(where + f + " restarts a coordinator in failover").isFalse();
      }
      if (List.of("kill", "stop", "crash", "coordinator kill").contains(f.kind())) {
        assertThat(f.target())
            .as(where + f + " spares node-1 and coordinator-1")
            .isNotIn("node-1", "coordinator-1");
      }
      if (s.coordinators() == 1) {
        assertThat(f.node()).as(where + "one coordinator is never broken").isTrue();
      }
      // at every second of the fault and of its settling: at most nodes - 3 nodes and
      // coordinators - 1 coordinators broken or settling, and no member broken twice (a restarted
      // one is not broken again before it had time to start)
      if (f.kind().endsWith("disconnect")) {
        assertThat(s.target())
            .as(where + f + ": the network is cut in the compose lab only")
            .isEqualTo(Scenario.Target.COMPOSE);
        assertThat(f.node())
            .as(
                where
                    + f
                    + " cuts off a "
                    + (f.kind().equals("disconnect") ? "node" : "coordinator"))
            .isEqualTo(f.kind().equals("disconnect"));
      }
      long settle =
          List.of(
                      "kill",
                      "stop",
                      "crash",
                      "coordinator kill",
                      "disconnect",
                      "coordinator disconnect")
                  .contains(f.kind())
              ? 8
              : f.kind().equals("lie") ? 3 : 2;
      if (!f.node()) {
        assertThat(f.busyUntil())
            .as(where + f + " answers again by the mode switch")
            .isLessThanOrEqualTo(phaseEnd);
      }
      if (f.kind().equals("lie")) {
        assertThat(
                faults.stream()
                    .filter(g -> g != f && g.kind().equals("lie"))
                    .filter(g -> g.overlaps(f.from(), f.busyUntil())))
            .as(where + f + ": one liar at a time")
            .isEmpty();
        assertThat(
                faults.stream()
                    .filter(g -> !g.node())
                    .filter(g -> g.overlaps(f.readmitAt(), f.readmitAt())))
            .as(where + f + ": every coordinator up when the liar is taken back")
            .isEmpty();
      }
      assertThat(f.busyUntil()).as(where + f).isEqualTo(f.to() + settle);
      for (long t = f.from(); t <= f.busyUntil(); t++) {
        long at = t;
        List<SoakPlan.Fault> now = faults.stream().filter(g -> g.overlaps(at, at)).toList();
        assertThat(now.stream().filter(SoakPlan.Fault::node).count())
            .as(where + "nodes broken at " + t)
            .isLessThanOrEqualTo(s.nodes() - 3);
        assertThat(now.stream().filter(g -> !g.node()).count())
            .as(where + "coordinators broken at " + t)
            .isLessThanOrEqualTo(s.coordinators() - 1);
        assertThat(now.stream().map(SoakPlan.Fault::target).distinct().count())
            .as(where + "a member broken twice at " + t)
            .isEqualTo(now.size());
      }
    }
  }

  @Test
  void theFileIsAValidScenarioWithTheSoaksExpectations() throws Exception {
    SoakPlan.Settings s = settings(7, Duration.ofMinutes(10), 5, 2);
    Scenario scenario = ScenarioFile.parse("soak.yaml", SoakPlan.yaml(s));
    assertThat(scenario.duration()).isEqualTo(Duration.ofMinutes(10));
    assertThat(scenario.nodes()).isEqualTo(5);
    assertThat(scenario.load().mode()).as("the coordinators' mode applies").isEmpty();
    assertThat(scenario.expectations())
        .extracting(x -> x.getClass().getSimpleName())
        .containsExactly("Lost", "Count", "Count", "FalseDeaths", "Steady", "Settled");
    assertThat(scenario.expectations().get(4))
        .as("ten minutes: the memory is judged after two")
        .isEqualTo(
            new Scenario.Steady(
                scenario.expectations().get(4).line(), 25, 5, Duration.ofMinutes(2)));
    assertThat(SoakPlan.warmupSeconds(Duration.ofMinutes(2))).isEqualTo(30);
    assertThat(SoakPlan.warmupSeconds(Duration.ofMinutes(1))).isEqualTo(20);
    // every fault is undone by the timeline itself, in order
    List<SoakPlan.Fault> faults = SoakPlan.faults(s);
    long breaking =
        scenario.timeline().stream()
            .filter(a -> a.verb() != Scenario.Verb.MODE)
            .filter(
                a ->
                    List.of(Scenario.Verb.KILL, Scenario.Verb.STOP, Scenario.Verb.PAUSE)
                            .contains(a.verb())
                        || a.verb() == Scenario.Verb.FAULT)
            .count();
    assertThat(breaking).isEqualTo(faults.size());
    long lies = faults.stream().filter(f -> f.kind().equals("lie")).count();
    assertThat(lies).as("seed 7 over 10 minutes has liars").isPositive();
    assertThat(scenario.timeline().stream().filter(a -> a.verb() == Scenario.Verb.READMIT))
        .hasSize((int) lies);
    assertThat(scenario.timeline().stream().filter(a -> a.verb() == Scenario.Verb.MODE))
        .extracting(a -> a.args().get("mode"))
        .startsWith("failover", "vote", "failover", "vote");
  }

  @Test
  void theSameSeedGivesTheSameSoakAndAnotherSeedAnother() {
    SoakPlan.Settings a = settings(11, Duration.ofMinutes(5), 5, 2);
    assertThat(SoakPlan.yaml(a))
        .isEqualTo(SoakPlan.yaml(settings(11, Duration.ofMinutes(5), 5, 2)));
    assertThat(SoakPlan.faults(a))
        .isNotEqualTo(SoakPlan.faults(settings(12, Duration.ofMinutes(5), 5, 2)));
  }

  @Test
  void onTheComposeLabNodesAndCoordinatorsAreCutOffTheNetworkAndConnectedAgain() throws Exception {
    SoakPlan.Settings s = compose(2026, Duration.ofMinutes(10));
    String yaml = SoakPlan.yaml(s);
    Scenario scenario = ScenarioFile.parse("soak.yaml", yaml);
    assertThat(scenario.target()).isEqualTo(Scenario.Target.COMPOSE);
    assertThat(yaml)
        .startsWith(
            "# Written by ftlab soak --seed 2026 --duration 600s --target compose --rate 20;")
        .doesNotContain("cluster:");
    List<SoakPlan.Fault> cuts =
        SoakPlan.faults(s).stream().filter(f -> f.kind().endsWith("disconnect")).toList();
    assertThat(cuts)
        .as("ten minutes on the compose lab cut nodes and coordinators off")
        .anyMatch(SoakPlan.Fault::node)
        .anyMatch(f -> !f.node());
    // each cut is mended by a connect of the same member at its end, in the timeline
    for (SoakPlan.Fault f : cuts) {
      assertThat(scenario.timeline())
          .anySatisfy(
              a -> {
                assertThat(a.verb()).isEqualTo(Scenario.Verb.DISCONNECT);
                assertThat(a.target()).isEqualTo(f.target());
                assertThat(a.at()).isEqualTo(Duration.ofSeconds(f.from()));
              })
          .anySatisfy(
              a -> {
                assertThat(a.verb()).isEqualTo(Scenario.Verb.CONNECT);
                assertThat(a.target()).isEqualTo(f.target());
                assertThat(a.at()).isEqualTo(Duration.ofSeconds(f.to()));
              });
    }
    assertThat(scenario.expectations())
        .extracting(x -> x.getClass().getSimpleName())
        .containsExactly("Lost", "Count", "Count", "FalseDeaths", "Steady", "Settled");
    // a local soak never cuts the network (it has none of its own), and keeps its faults: seed
    // 2026's are those of docs/scenarios.md and benchmarks.md, from before the compose lab's cuts
    for (long seed = 1; seed <= 50; seed++) {
      assertThat(SoakPlan.faults(settings(seed, Duration.ofMinutes(10), 5, 2)))
          .noneMatch(f -> f.kind().endsWith("disconnect"));
    }
    assertThat(SoakPlan.counts(SoakPlan.faults(settings(2026, Duration.ofMinutes(10), 5, 2))))
        .isEqualTo(
            "5 coordinator kill, 9 coordinator pause, 4 crash, 10 freeze, 21 kill, 5 lie, 11"
                + " pause, 9 slow, 6 stop");
  }

  @Test
  void settingsASoakCannotKeepItsRulesWithAreRefused() {
    assertThatThrownBy(
            () ->
                new SoakPlan.Settings(
                    Scenario.Target.COMPOSE, 1, Duration.ofMinutes(2), 8, 2, 20, 4))
        .hasMessage(
            "the compose lab has 5 nodes and 2 coordinators (docker-compose.yml), got 8 and 2:"
                + " --nodes and --coordinators size a local soak");
    assertThatThrownBy(() -> settings(1, Duration.ofMinutes(2), 3, 2))
        .hasMessage("a soak needs at least 4 nodes (a vote of 3 and one to break), got 3");
    assertThatThrownBy(() -> settings(1, Duration.ofSeconds(30), 5, 2))
        .hasMessage("a soak runs from 1 minute to 4 hours, got 30 s");
  }
}
