package ftlab.client.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.client.scenario.Scenario.Outcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The verdict on histories made by hand: lost and wrong requests, windows, transitions. */
class CheckerTest {
  @TempDir Path dir;

  private static final String FILE =
      """
      name: a node is killed
      duration: 40s
      timeline:
        - {at: 10s, do: kill, target: node-3, name: kill-3}
        - {at: 25s, do: start, target: node-3}
      expect:
        - failed: 0
        - wrong: 0
        - p99: {below: 2s, from: 10s, to: 25s}
        - state: {node: node-3, becomes: DEAD, within: 1s, after: kill-3}
      """;

  private static Scenario scenario() throws ScenarioFile.Invalid {
    return ScenarioFile.parse("node-killed.yaml", FILE);
  }

  /** 40 requests a second for 40 s, all ok in 20 ms; the two actions; both coordinators' view. */
  private static List<History.Event> goodRun() {
    List<History.Event> events = new ArrayList<>();
    for (long id = 1; id <= 1_600; id++) {
      long sent = (id - 1) * 25;
      events.add(request(id, sent, 20, Outcome.OK));
    }
    events.add(new History.Action(null, "kill-3", "kill", "node-3", 10_000, 10_002, 10_030, ""));
    events.add(
        new History.Action(null, "start node-3", "start", "node-3", 25_000, 25_001, 25_900, ""));
    events.add(transition(10_450, "coordinator-1", "ALIVE", "SUSPECT"));
    events.add(transition(10_640, "coordinator-1", "SUSPECT", "DEAD"));
    events.add(transition(10_700, "coordinator-2", "SUSPECT", "DEAD"));
    events.add(transition(26_100, "coordinator-1", "DEAD", "ALIVE"));
    return events;
  }

  private static History.Request request(long id, long sent, long latency, Outcome outcome) {
    return new History.Request(
        null,
        id,
        sent,
        sent + latency,
        outcome,
        outcome == Outcome.FAILED ? "" : "node-1",
        outcome == Outcome.FAILED ? "" : "coordinator-1",
        1,
        false,
        outcome == Outcome.FAILED ? "gave up after 10000 ms: DEADLINE_EXCEEDED" : "");
  }

  private static History.Transition transition(long at, String c, String from, String to) {
    return new History.Transition(null, at, c, "node-3", from, to, "no heartbeat for 600 ms");
  }

  @Test
  void aGoodRunMeetsEveryExpectationWithItsFigures() throws Exception {
    Checker.Report r = Checker.check(scenario(), goodRun());
    assertThat(r.passed()).isTrue();
    assertThat(r.requests()).isEqualTo(1_600);
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::figures)
        .containsExactly(
            "0 of 1600 requests failed",
            "0 of 1600 requests wrong",
            "p99 20 ms over 600 requests",
            "coordinator-1: after 638 ms, coordinator-2: after 698 ms");
  }

  @Test
  void aFailedAWrongASlowWindowAndALateDetectionAreEachMissed() throws Exception {
    List<History.Event> events = goodRun();
    events.set(499, request(500, 499 * 25, 10_000, Outcome.FAILED)); // sent at 12.5 s
    events.set(799, request(800, 799 * 25, 30, Outcome.WRONG));
    for (int i = 400; i < 420; i++) { // 20 of the 600 in the window take 3 s
      events.set(i, request(i + 1, i * 25L, 3_000, Outcome.OK));
    }
    events.removeIf(
        e -> e instanceof History.Transition t && t.coordinator().equals("coordinator-2"));
    events.add(transition(11_500, "coordinator-2", "SUSPECT", "DEAD"));
    Checker.Report r = Checker.check(scenario(), events);
    assertThat(r.passed()).isFalse();
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::met)
        .containsExactly(false, false, false, false);
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::figures)
        .containsExactly(
            "1 of 1600 requests failed; the first: #500, sent at 12.5 s, failed at 22.5 s: gave up"
                + " after 10000 ms: DEADLINE_EXCEEDED",
            "1 of 1600 requests wrong; the first: #800, sent at 20.0 s, answered by node-1",
            "p99 3000 ms over 600 requests",
            "coordinator-1: after 638 ms, coordinator-2: after 1498 ms");
    assertThat(ScenarioCommand.verdict(scenario(), "node-killed.yaml", r))
        .isEqualTo(
            """
            scenario "a node is killed" (node-killed.yaml): 1600 requests, 1598 ok, 1 failed, 1 wrong
              MISSED  no failed request                                      1 of 1600 requests failed; the first: #500, sent at 12.5 s, failed at 22.5 s: gave up after 10000 ms: DEADLINE_EXCEEDED
              MISSED  no wrong request                                       1 of 1600 requests wrong; the first: #800, sent at 20.0 s, answered by node-1
              MISSED  p99 below 2 s for requests sent between 10 s and 25 s  p99 3000 ms over 600 requests
              MISSED  node-3 DEAD at every coordinator within 1 s of kill-3  coordinator-1: after 638 ms, coordinator-2: after 1498 ms
            verdict: FAIL (4 of 4 expectations missed)
            """);
  }

  @Test
  void failuresAreCountedInTheirWindowWithBothBounds() throws Exception {
    Scenario s =
        ScenarioFile.parse(
            "vote.yaml",
            """
            name: one node left
            duration: 40s
            expect:
              - failed: {at most: 0, to: 10s}
              - failed: {at least: 1, from: 10s, to: 25s}
              - failed: {at least: 5, at most: 100, from: 10s, to: 25s}
              - failed: {at least: 1, from: 25s}
            """);
    List<History.Event> events = goodRun();
    for (int i = 400; i < 420; i++) { // sent from 10 s to 10.5 s
      events.set(i, request(i + 1, i * 25L, 5, Outcome.FAILED));
    }
    Checker.Report r = Checker.check(s, events);
    assertThat(r.verdicts())
        .extracting(v -> v.expectation().describe())
        .containsExactly(
            "no failed request sent before 10 s",
            "at least 1 failed request sent between 10 s and 25 s",
            "5 to 100 failed requests sent between 10 s and 25 s",
            "at least 1 failed request sent between 25 s and 40 s");
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::met)
        .containsExactly(true, true, true, false);
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::figures)
        .containsExactly(
            "0 of 400 requests failed",
            "20 of 600 requests failed; the first: #401, sent at 10.0 s, failed at 10.0 s: gave"
                + " up after 10000 ms: DEADLINE_EXCEEDED",
            "20 of 600 requests failed; the first: #401, sent at 10.0 s, failed at 10.0 s: gave"
                + " up after 10000 ms: DEADLINE_EXCEEDED",
            "0 of 600 requests failed");
  }

  @Test
  void aNodesShareOfTheAnswersInAWindowIsCheckedAgainstItsBounds() throws Exception {
    Scenario s =
        ScenarioFile.parse(
            "share.yaml",
            """
            name: a slow node gets little work
            duration: 40s
            expect:
              - share: {node: node-2, at most: 5%, from: 10s, to: 20s}
              - share: {node: node-2, at least: 10%, from: 20s}
              - share: {node: node-3, at least: 1%, at most: 2.5%}
            """);
    List<History.Event> events = new ArrayList<>();
    for (long id = 1; id <= 1_600; id++) { // 400 in [10 s, 20 s): node-2 gets 8 (2%)
      long sent = (id - 1) * 25;
      boolean inWindow = sent >= 10_000 && sent < 20_000;
      String node =
          inWindow
              ? (id % 50 == 0 ? "node-2" : "node-1")
              : (id % 4 == 0 ? "node-2" : id % 2 == 0 ? "node-1" : "node-4");
      events.add(
          new History.Request(
              null, id, sent, sent + 10, Outcome.OK, node, "coordinator-1", 1, false, ""));
    }
    events.add(
        new History.Request(null, 9_999, 30_000, 40_000, Outcome.FAILED, "", "", 0, true, "x"));
    Checker.Report r = Checker.check(s, events);
    assertThat(r.verdicts())
        .extracting(v -> v.expectation().describe())
        .containsExactly(
            "node-2 answered at most 5% of the requests sent between 10 s and 20 s",
            "node-2 answered at least 10% of the requests sent between 20 s and 40 s",
            "node-3 answered 1% to 2.5% of the requests over the whole run");
    assertThat(r.verdicts()).extracting(Checker.Verdict::met).containsExactly(true, true, false);
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::figures)
        .containsExactly(
            "node-2 8 of 400 (2.0%); node-1 98%",
            "node-2 200 of 800 (25.0%); node-1 25%, node-4 50%",
            "node-3 0 of 1600 (0.0%); node-1 43%, node-2 19%, node-4 38%");
  }

  @Test
  void aQuarantineIsCountedInTheVotesEachCoordinatorCountedSinceTheAction() throws Exception {
    Scenario s =
        ScenarioFile.parse(
            "votes.yaml",
            """
            name: a liar is caught
            duration: 20s
            timeline:
              - {at: 5s, do: mode, mode: vote, replicas: 3}
            expect:
              - state: {node: node-2, becomes: QUARANTINED, within: 3 votes, after: mode}
              - state: {node: node-2, becomes: QUARANTINED, within: 1 vote, after: mode, at: coordinator-1}
              - state: {node: node-2, becomes: QUARANTINED, within: 2 votes, after: mode}
              - state: {node: node-4, becomes: DEAD, within: 9 votes, after: mode}
            """);
    List<History.Event> events = new ArrayList<>();
    events.add(new History.Action(null, "mode", "mode", "", 5_000, 5_000, 5_040, ""));
    long id = 0;
    for (long sent = 0; sent < 20_000; sent += 100) {
      boolean vote = sent >= 5_000;
      String c = id % 2 == 0 ? "coordinator-1" : "coordinator-2";
      // in vote mode, every third request asks node-2, which is always outvoted
      boolean asked = vote && id % 3 == 0;
      events.add(
          new History.Request(
              null,
              ++id,
              sent,
              sent + 20,
              Outcome.OK,
              "node-1",
              c,
              vote ? 3 : 1,
              false,
              "",
              !vote
                  ? null
                  : asked
                      ? List.of("node-1", "node-3", "node-2")
                      : List.of("node-1", "node-3", "node-4"),
              !vote ? null : asked ? List.of("node-2") : List.of()));
    }
    // node-2 asked in the requests sent at 5.1 s (coordinator-2), 5.4 (coordinator-1), 5.7 (2),
    // 6.0 (1), 6.3 (2), 6.6 (1)...: by its quarantine, coordinator-1 counted 1 of its votes and
    // coordinator-2 3
    events.add(
        new History.Transition(
            null, 5_650, "coordinator-1", "node-2", "ALIVE", "QUARANTINED", "outvoted 2 times"));
    events.add(
        new History.Transition(
            null, 6_500, "coordinator-2", "node-2", "ALIVE", "QUARANTINED", "outvoted 3 times"));
    // a transition before any vote: no votes to count, which is no evidence either way
    events.add(
        new History.Transition(null, 5_050, "coordinator-2", "node-4", "SUSPECT", "DEAD", "x"));
    Checker.Report r = Checker.check(s, events);
    assertThat(r.verdicts())
        .extracting(v -> v.expectation().describe())
        .containsExactly(
            "node-2 QUARANTINED at every coordinator within 3 votes of mode",
            "node-2 QUARANTINED at coordinator-1 within 1 vote of mode",
            "node-2 QUARANTINED at every coordinator within 2 votes of mode",
            "node-4 DEAD at every coordinator within 9 votes of mode");
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::figures)
        .containsExactly(
            "coordinator-1: after 1 vote (1 outvoted), 650 ms, coordinator-2: after 3 votes (3"
                + " outvoted), 1500 ms",
            "coordinator-1: after 1 vote (1 outvoted), 650 ms",
            "coordinator-1: after 1 vote (1 outvoted), 650 ms, coordinator-2: after 3 votes (3"
                + " outvoted), 1500 ms",
            "coordinator-1: never, coordinator-2: no request through it was decided by a vote"
                + " between mode and the transition (50 ms): no votes to count");
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::met)
        .containsExactly(true, true, false, false);
  }

  @Test
  void throughputIsAnsweredRequestsPerSecondOfAWindowOrAMultipleOfABaselines() throws Exception {
    Scenario s =
        ScenarioFile.parse(
            "throughput.yaml",
            """
            name: more nodes, more answers
            duration: 30s
            expect:
              - throughput: {at least: 18/s, from: 0s, to: 10s}
              - throughput: {at least: 1.8x, from: 20s, baseline: {from: 0s, to: 10s}}
              - throughput: {at least: 2.5x, from: 20s, baseline: {from: 0s, to: 10s}}
              - throughput: {at most: 30/s}
              - throughput: {at least: 1/s, from: 10s, to: 20s}
            """);
    List<History.Event> events = new ArrayList<>();
    long id = 0;
    for (long sent = 0; sent < 10_000; sent += 50) { // 20/s, one in ten failed
      events.add(request(++id, sent, 20, id % 10 == 0 ? Outcome.FAILED : Outcome.OK));
    }
    for (long sent = 20_000; sent < 30_000; sent += 25) { // 40/s, one wrong: still an answer
      events.add(request(++id, sent, 20, id == 300 ? Outcome.WRONG : Outcome.OK));
    }
    Checker.Report r = Checker.check(s, events);
    assertThat(r.verdicts())
        .extracting(v -> v.expectation().describe())
        .containsExactly(
            "throughput of the requests sent before 10 s at least 18/s",
            "throughput of the requests sent between 20 s and 30 s at least 1.8x of that of those"
                + " sent before 10 s",
            "throughput of the requests sent between 20 s and 30 s at least 2.5x of that of those"
                + " sent before 10 s",
            "throughput of the requests over the whole run at most 30/s",
            "throughput of the requests sent between 10 s and 20 s at least 1/s");
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::figures)
        .containsExactly(
            "18.0/s (180 answered of 200 sent in 10 s)",
            "2.22x: 40.0/s (400 answered of 400 sent in 10 s), against 18.0/s (180 answered of 200"
                + " sent in 10 s)",
            "2.22x: 40.0/s (400 answered of 400 sent in 10 s), against 18.0/s (180 answered of 200"
                + " sent in 10 s)",
            "19.3/s (580 answered of 600 sent in 30 s)",
            "0.0/s (0 answered of 0 sent in 10 s)");
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::met)
        .containsExactly(true, true, false, true, false);
  }

  @Test
  void refusalsAreSummedByLayerInTheirWindowAtOneOrEveryCoordinator() throws Exception {
    Scenario s =
        ScenarioFile.parse(
            "refused.yaml",
            """
            name: attacks are refused
            duration: 20s
            expect:
              - refused: {by: identity, at least: 2}
              - refused: {by: revocation, at least: 1, from: 10s, to: 15s, at: coordinator-2}
              - refused: {by: handshake, at most: 0}
              - refused: {by: authorization, at least: 1, at most: 1}
            """);
    List<History.Event> events = new ArrayList<>();
    events.add(request(1, 0, 10, Outcome.OK));
    events.add(
        new History.Refusal(
            null, 4_300, "coordinator-1", "identity", 1, "identity refused node node-3 ..."));
    events.add(new History.Refusal(null, 4_400, "coordinator-2", "identity", 1, ""));
    events.add(new History.Refusal(null, 9_900, "coordinator-2", "revocation", 7, "before"));
    events.add(new History.Refusal(null, 13_000, "coordinator-1", "revocation", 9, "elsewhere"));
    events.add(new History.Refusal(null, 8_000, "coordinator-1", "handshake", 1, "a probe"));
    Checker.Report r = Checker.check(s, events);
    assertThat(r.verdicts())
        .extracting(v -> v.expectation().describe())
        .containsExactly(
            "at least 2 calls refused by identity",
            "at least 1 call refused by revocation at coordinator-2 between 10 s and 15 s",
            "no call refused by handshake",
            "exactly 1 call refused by authorization");
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::met)
        .containsExactly(true, false, false, false);
    assertThat(r.verdicts())
        .extracting(Checker.Verdict::figures)
        .containsExactly(
            "2 refused by identity (coordinator-1 1, coordinator-2 1); the first seen at 4.3 s at"
                + " coordinator-1: identity refused node node-3 ...",
            "0 refused by revocation",
            "1 refused by handshake (coordinator-1 1); the first seen at 8.0 s at coordinator-1: a"
                + " probe",
            "0 refused by authorization");
  }

  @Test
  void anActionThatDidNotTakeEffectFailsTheScenarioAndANeverSeenStateIsMissed() throws Exception {
    List<History.Event> events = goodRun();
    events.removeIf(e -> e instanceof History.Action || e instanceof History.Transition);
    events.add(
        new History.Action(
            null, "kill-3", "kill", "node-3", 10_000, 10_002, -1, "node-3 is still running"));
    Checker.Report r = Checker.check(scenario(), events);
    assertThat(r.passed()).isFalse();
    assertThat(r.verdicts().get(0).expectation().describe()).isEqualTo("kill-3 took effect");
    assertThat(r.verdicts().get(0).figures()).isEqualTo("node-3 is still running");
    assertThat(r.verdicts().get(4).figures())
        .isEqualTo("the history has no membership transition at all");
  }

  @Test
  void aHistoryIsWrittenAndReadBackAndCheckedAlone() throws Exception {
    Path file = dir.resolve("run.jsonl");
    List<History.Event> events = goodRun();
    events.add( // a request decided by a vote, and a refusal
        new History.Request(
            null,
            9_000,
            39_000,
            39_020,
            Outcome.OK,
            "node-1",
            "coordinator-2",
            3,
            false,
            "",
            List.of("node-1", "node-4", "node-2"),
            List.of("node-2")));
    events.add(new History.Refusal(null, 39_100, "coordinator-1", "identity", 2, "identity ..."));
    try (History.Writer w = new History.Writer(file, "node-killed.yaml", FILE)) {
      for (History.Event e : events) {
        w.record(e);
      }
    }
    History.Read read = History.read(file);
    assertThat(read.header().source()).isEqualTo("node-killed.yaml");
    assertThat(read.header().text()).isEqualTo(FILE);
    assertThat(read.events()).isEqualTo(events);
    assertThat(Files.readAllLines(file).get(1_607))
        .endsWith("\"voters\":[\"node-1\",\"node-4\",\"node-2\"],\"outvoted\":[\"node-2\"]}");
    assertThat(Files.readAllLines(file).get(2))
        .isEqualTo(
            "{\"type\":\"request\",\"id\":2,\"sentMs\":25,\"atMs\":45,\"outcome\":\"OK\","
                + "\"node\":\"node-1\",\"coordinator\":\"coordinator-1\",\"attempts\":1,"
                + "\"indefinite\":false,\"error\":\"\"}");
    Scenario again = ScenarioFile.parse(read.header().source(), read.header().text());
    assertThat(Checker.check(again, read.events()).passed()).isTrue();
  }

  @Test
  void aBrokenHistorySaysWhichLine() throws IOException {
    Path file = dir.resolve("bad.jsonl");
    Files.writeString(
        file, "{\"type\":\"scenario\",\"source\":\"s\",\"text\":\"\"}\n{\"type\":\"nap\"}\n");
    assertThatThrownBy(() -> History.read(file))
        .hasMessage(file + " line 2: unknown type 'nap' (request, action, transition or refusal)");
    Files.writeString(file, "{\"type\":\"request\"}\n");
    assertThatThrownBy(() -> History.read(file))
        .hasMessage(
            file + " line 1: a history starts with its scenario ({\"type\":\"scenario\",...})");
    Files.writeString(file, "{\"type\":\"scenario\"}\n{\"type\":\"transition\",\"atMs\":5}\n");
    assertThatThrownBy(() -> History.read(file))
        .hasMessage(file + " line 2: a transition needs coordinator, node, to");
    assertThatThrownBy(() -> new History.Writer(file, "s", ""))
        .hasMessage(file + " exists already: give another --history");
    Files.writeString(file, "{\"type\":\"scenario\"}\n{\"type\":\"refusal\",\"count\":5}\n");
    assertThatThrownBy(() -> History.read(file))
        .hasMessage(file + " line 2: a refusal needs coordinator, layer");
    Files.delete(file);
    Files.writeString(file, "{\"type\":\"scenario\"}\nnot json\n");
    assertThatThrownBy(() -> History.read(file))
        .hasMessageStartingWith(file + " line 2: not a history line");
  }
}
