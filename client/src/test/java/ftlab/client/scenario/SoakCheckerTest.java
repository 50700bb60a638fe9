package ftlab.client.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.client.scenario.Scenario.Outcome;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The soak's expectations on histories made by hand: requests lost, deaths of healthy nodes, memory
 * and threads that grow, a cluster that did not settle.
 */
class SoakCheckerTest {
  private static final String FILE =
      """
      name: soak checks
      duration: 100s
      timeline:
        - {at: 10s, do: kill, target: node-3}
        - {at: 20s, do: start, target: node-3}
        - {at: 40s, do: pause, target: coordinator-2}
        - {at: 44s, do: unpause, target: coordinator-2}
      expect:
        - lost: 0
        - false deaths: 0
        - steady: {memory: 25%, threads: 5, warmup: 10s}
        - settled: true
      """;

  private static Checker.Verdict verdict(List<History.Event> events, Class<?> kind)
      throws Exception {
    Checker.Report r = Checker.check(ScenarioFile.parse("soak.yaml", FILE), events);
    return r.verdicts().stream()
        .filter(v -> kind.isInstance(v.expectation()))
        .findFirst()
        .orElseThrow();
  }

  private static List<History.Event> run() {
    List<History.Event> events = new ArrayList<>();
    for (long id = 1; id <= 100; id++) {
      events.add(
          new History.Request(
              null,
              id,
              id * 1000,
              id * 1000 + 5,
              Outcome.OK,
              "node-1",
              "coordinator-1",
              1,
              false,
              ""));
    }
    events.add(new History.Load(null, 100_100, 100));
    events.add(
        new History.Action(null, "kill node-3", "kill", "node-3", 10_000, 10_001, 10_020, ""));
    events.add(
        new History.Action(null, "start node-3", "start", "node-3", 20_000, 20_001, 20_300, ""));
    events.add(
        new History.Action(
            null, "pause coordinator-2", "pause", "coordinator-2", 40_000, 40_001, 40_010, ""));
    events.add(
        new History.Action(
            null, "unpause coordinator-2", "unpause", "coordinator-2", 44_000, 44_001, 44_010, ""));
    for (String c : List.of("coordinator-1", "coordinator-2")) {
      for (String n : List.of("node-1", "node-2", "node-3")) {
        events.add(new History.Transition(null, 0, c, n, "", "ALIVE", "joined"));
      }
      events.add(new History.Transition(null, 10_600, c, "node-3", "ALIVE", "DEAD", "silent"));
      events.add(new History.Transition(null, 21_500, c, "node-3", "DEAD", "ALIVE", "beat"));
    }
    // coordinator-2, unpaused, finds every node silent for a moment: its own doing
    events.add(
        new History.Transition(null, 44_100, "coordinator-2", "node-1", "ALIVE", "DEAD", "silent"));
    events.add(
        new History.Transition(null, 44_200, "coordinator-2", "node-1", "DEAD", "ALIVE", "beat"));
    for (long t = 0; t <= 99_000; t += 3_000) {
      events.add(new History.Sample(null, t, "node-1", 101, 100_000 + t / 100, 30));
      events.add(new History.Sample(null, t, "coordinator-1", 102, 120_000, 40));
      if (t >= 70_000) { // started late in the run: too little of it to judge
        events.add(new History.Sample(null, t, "node-5", 106, 90_000 + t, 30));
      }
      if (t < 10_000) {
        events.add(new History.Sample(null, t, "node-3", 103, 90_000, 30));
      } else if (t > 21_000) {
        events.add(new History.Sample(null, t, "node-3", 104, 90_000, 30));
      }
    }
    return events;
  }

  @Test
  void aSoundSoakMeetsAllFour() throws Exception {
    Checker.Report r = Checker.check(ScenarioFile.parse("soak.yaml", FILE), run());
    assertThat(r.verdicts()).allMatch(Checker.Verdict::met);
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::figures)
        .containsExactly(
            "100 sent, 100 ended",
            "0 false deaths, 0 false suspicions (SUSPECT), 3 DEAD under a fault",
            "3 processes lived half the run or more; most grown: node-1 memory +1% (97 -> 98"
                + " MB), coordinator-1 threads +0 (40 -> 40); not judged (lived less than half the"
                + " run): node-5",
            "6 node states ALIVE at 2 coordinators");
  }

  @Test
  void aRequestThatNeverEndedIsLost() throws Exception {
    List<History.Event> events = run();
    events.removeIf(e -> e instanceof History.Request r && r.id() == 50);
    Checker.Verdict v = verdict(events, Scenario.Lost.class);
    assertThat(v.met()).isFalse();
    assertThat(v.figures()).isEqualTo("100 sent, 99 ended, 1 never did");
  }

  @Test
  void withoutTheLoadsCountNothingCanBeSaid() throws Exception {
    List<History.Event> events = run();
    events.removeIf(e -> e instanceof History.Load);
    assertThat(verdict(events, Scenario.Lost.class).met()).isFalse();
  }

  @Test
  void aHealthyNodeDeclaredDeadIsAFalseDeathAndASuspicionIsCounted() throws Exception {
    List<History.Event> events = run();
    events.add(
        new History.Transition(null, 60_000, "coordinator-1", "node-2", "ALIVE", "SUSPECT", "x"));
    events.add(
        new History.Transition(null, 60_100, "coordinator-1", "node-2", "SUSPECT", "ALIVE", "x"));
    events.add(
        new History.Transition(
            null, 70_000, "coordinator-1", "node-2", "ALIVE", "DEAD", "no heartbeat for 612 ms"));
    events.add(
        new History.Transition(null, 70_300, "coordinator-1", "node-2", "DEAD", "ALIVE", "beat"));
    Checker.Verdict v = verdict(events, Scenario.FalseDeaths.class);
    assertThat(v.met()).isFalse();
    assertThat(v.figures())
        .isEqualTo(
            "1 false death, 1 false suspicion (SUSPECT), 3 DEAD under a fault; the"
                + " first: node-2 DEAD at coordinator-1 at 70.0 s (no heartbeat for 612 ms)");
  }

  @Test
  void aDeathJustAfterTheUndoingIsExcusedButNotLater() throws Exception {
    List<History.Event> events = run();
    // node-3 restarted at 20.3 s: within the 3 s grace, then long after
    events.add(
        new History.Transition(null, 23_000, "coordinator-1", "node-3", "ALIVE", "DEAD", "x"));
    assertThat(verdict(events, Scenario.FalseDeaths.class).met()).isTrue();
    events.add(
        new History.Transition(null, 23_400, "coordinator-1", "node-3", "DEAD", "ALIVE", "x"));
    events.add(
        new History.Transition(null, 23_500, "coordinator-1", "node-3", "ALIVE", "DEAD", "x"));
    assertThat(verdict(events, Scenario.FalseDeaths.class).met()).isFalse();
  }

  @Test
  void memoryThatKeepsGrowingOrThreadsThatPileUpAreNotSteady() throws Exception {
    List<History.Event> leaking = run();
    for (long t = 0; t <= 99_000; t += 3_000) {
      leaking.add(
          new History.Sample(null, t, "node-2", 105, 100_000 + t * 2, (int) (30 + t / 10_000)));
    }
    Checker.Verdict v = verdict(leaking, Scenario.Steady.class);
    assertThat(v.met()).isFalse();
    assertThat(v.figures()).contains("over: node-2 memory +", "node-2 threads +6 (32 -> 38)");
  }

  @Test
  void aMomentsSpikeOfThreadsIsNotALeak() throws Exception {
    List<History.Event> spiky = run();
    for (long t = 0; t <= 99_000; t += 3_000) {
      // a container's tasks: 21, and once 28 (a health check and a JIT thread as it was sampled)
      spiky.add(new History.Sample(null, t, "node-2", 105, 100_000, t == 93_000 ? 28 : 21));
    }
    Checker.Verdict v = verdict(spiky, Scenario.Steady.class);
    assertThat(v.met()).as(v.figures()).isTrue();
    assertThat(v.figures()).startsWith("4 processes lived half the run").doesNotContain("over:");
  }

  @Test
  void withNoProcessFollowedThroughoutNothingIsSteady() throws Exception {
    List<History.Event> events = run();
    events.removeIf(e -> e instanceof History.Sample);
    Checker.Verdict v = verdict(events, Scenario.Steady.class);
    assertThat(v.met()).isFalse();
    assertThat(v.figures()).contains("no samples in the history");
  }

  @Test
  void processesThatLivedTooLittleOfTheRunAreNotJudged() throws Exception {
    List<History.Event> events = run();
    events.removeIf(e -> e instanceof History.Sample p && !p.member().equals("node-5"));
    Checker.Verdict v = verdict(events, Scenario.Steady.class);
    assertThat(v.met()).isFalse();
    assertThat(v.figures()).isEqualTo("no process was sampled for half the run or more");
  }

  @Test
  void theSoaksExpectationsAreReadWithTheirDefaultsAndMistakes() throws Exception {
    Scenario s =
        ScenarioFile.parse(
            "x.yaml",
            """
            name: x
            duration: 60s
            expect:
              - false deaths: {grace: 5s}
              - steady: true
              - lost: 2
            """);
    assertThat(s.expectations())
        .containsExactly(
            new Scenario.FalseDeaths(4, 0, java.time.Duration.ofSeconds(5)),
            new Scenario.Steady(5, 25, 5, java.time.Duration.ofSeconds(20)),
            new Scenario.Lost(6, 2));
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                ScenarioFile.parse(
                    "y.yaml",
                    """
                    name: y
                    target: compose
                    duration: 60s
                    expect:
                      - steady: false
                      - settled: no
                    """))
        .isInstanceOf(ScenarioFile.Invalid.class)
        .satisfies(
            e ->
                assertThat(((ScenarioFile.Invalid) e).errors())
                    .containsExactly(
                        "y.yaml line 5: steady takes true (the defaults) or {memory: 25%, threads:"
                            + " 5, warmup: 20s}",
                        "y.yaml line 6: settled takes true (every node ALIVE at every coordinator"
                            + " at the end)"));
  }

  @Test
  void aNodeThatHadLeftBeforeTheRunIsNotCountedButOneThatLeftDuringItIs() throws Exception {
    List<History.Event> events = run();
    // the compose lab's pool, scaled in before the run: LEFT at the first look, never back
    events.add(new History.Transition(null, 0, "coordinator-1", "pool-1", "", "LEFT", "left"));
    events.add(new History.Transition(null, 0, "coordinator-2", "pool-1", "", "LEFT", "left"));
    Checker.Verdict v = verdict(events, Scenario.Settled.class);
    assertThat(v.met()).isTrue();
    assertThat(v.figures()).endsWith("(not counted: pool-1, LEFT before the run)");

    events.add(
        new History.Transition(null, 50_000, "coordinator-1", "node-3", "ALIVE", "LEFT", "bye"));
    v = verdict(events, Scenario.Settled.class);
    assertThat(v.met()).isFalse();
    assertThat(v.figures())
        .isEqualTo(
            "node-3 LEFT at coordinator-1 since 50.0 s (not counted: pool-1, LEFT before the run)");
  }

  @Test
  void aNodeLeftDeadAtTheEndIsNotSettled() throws Exception {
    List<History.Event> events = run();
    events.add(
        new History.Transition(null, 95_000, "coordinator-2", "node-2", "ALIVE", "DEAD", "x"));
    Checker.Verdict v = verdict(events, Scenario.Settled.class);
    assertThat(v.met()).isFalse();
    assertThat(v.figures()).isEqualTo("node-2 DEAD at coordinator-2 since 95.0 s");
  }

  @Test
  void theNewLinesOfAHistoryReadBack(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path file = dir.resolve("h.jsonl");
    try (History.Writer w = new History.Writer(file, "soak.yaml", FILE)) {
      w.record(new History.Sample(null, 3_000, "node-1", 42, 123_456, 31));
      w.record(new History.Load(null, 100_000, 2_000));
    }
    assertThat(History.read(file).events())
        .containsExactly(
            new History.Sample("sample", 3_000, "node-1", 42, 123_456, 31),
            new History.Load("load", 100_000, 2_000));
  }
}
