package ftlab.client.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.proto.NodeState;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Scenario files, good and bad: what is read, and every mistake by its line. */
class ScenarioFileTest {

  private static Scenario parse(String text) throws ScenarioFile.Invalid {
    return ScenarioFile.parse("s.yaml", text);
  }

  private static List<String> mistakes(String text) {
    try {
      parse(text);
    } catch (ScenarioFile.Invalid e) {
      return e.errors();
    }
    throw new AssertionError("no mistake found in:\n" + text);
  }

  @Test
  void aFullFileIsReadWithItsDefaults() throws Exception {
    Scenario s =
        parse(
            """
            name: a node is killed
            duration: 40s
            load: {rate: 50, mode: vote, replicas: 3}
            timeline:
              - {at: 10s, do: kill, target: node-3, name: kill-3}
              - {at: 12.5s, do: fault, target: node-2, fault: slow, delay: 200ms, fraction: 0.5}
              - {at: 20s, do: heal, target: node-2}
              - {at: 25s, do: start, target: node-3}
            expect:
              - failed: 0
              - wrong: 2
              - p99: {below: 2s, from: 10s, to: 25s}
              - max: {below: 5s}
              - state: {node: node-3, becomes: DEAD, within: 1s, after: kill-3, at: coordinator-2}
            """);
    assertThat(s.name()).isEqualTo("a node is killed");
    assertThat(s.target()).isEqualTo(Scenario.Target.LOCAL);
    assertThat(s.nodes()).isEqualTo(5);
    assertThat(s.coordinators()).isEqualTo(2);
    assertThat(s.seed()).isEqualTo(1);
    assertThat(s.duration()).isEqualTo(Duration.ofSeconds(40));
    assertThat(s.load()).isEqualTo(new Scenario.Load(50, 4, "mix", Optional.of("vote"), 3, 20));
    assertThat(s.timeline())
        .extracting(Scenario.Action::name)
        .containsExactly("kill-3", "fault node-2", "heal node-2", "start node-3");
    assertThat(s.timeline().get(1).at()).isEqualTo(Duration.ofMillis(12_500));
    assertThat(s.timeline().get(1).args())
        .isEqualTo(Map.of("fault", "slow", "delay_ms", "200", "fraction", "0.5"));
    assertThat(s.timeline().get(1).describe())
        .isEqualTo("fault node-2 (fault slow, delay 200 ms, fraction 0.5)");
    assertThat(s.timeline().get(0).line()).isEqualTo(5);
    assertThat(s.expectations())
        .containsExactly(
            Scenario.Count.atMost(10, Scenario.Outcome.FAILED, 0),
            Scenario.Count.atMost(11, Scenario.Outcome.WRONG, 2),
            new Scenario.Percentile(
                12,
                99,
                Duration.ofSeconds(2),
                new Scenario.Window(Duration.ofSeconds(10), Duration.ofSeconds(25))),
            new Scenario.Percentile(13, 100, Duration.ofSeconds(5), Scenario.Window.WHOLE_RUN),
            new Scenario.StateWithin(
                14,
                "node-3",
                NodeState.DEAD,
                Duration.ofSeconds(1),
                -1,
                "kill-3",
                Optional.of("coordinator-2")));
    assertThat(s.expectations().get(4).describe())
        .isEqualTo("node-3 DEAD at coordinator-2 within 1 s of kill-3");
    assertThat(s.expectations().get(2).describe())
        .isEqualTo("p99 below 2 s for requests sent between 10 s and 25 s");
  }

  @Test
  void everyMistakeIsReportedWithItsLineInTheOrderOfTheFile() {
    assertThat(
            mistakes(
                """
                name: bad
                duration: 30s
                colour: blue
                load: {rate: -1, task: pi}
                timeline:
                  - {at: 10s, do: explode, target: node-3}
                  - {at: 45s, do: kill, target: node-3}
                  - {do: kill}
                  - {at: 5s, do: mode, mode: vote, target: node-1}
                  - {at: 6s, do: kill, target: node-3}
                expect:
                  - failed: none
                  - p99: {from: 10s}
                  - state: {node: node-3, becomes: GONE, within: 1s, after: kill-9}
                  - {failed: 0, wrong: 0}
                """))
        .containsExactly(
            "s.yaml line 3: unknown key 'colour'; the keys here are cluster, description,"
                + " duration, expect, load, name, seed, target, timeline",
            "s.yaml line 4: load.rate must be between 0 and 100000, got -1",
            "s.yaml line 4: load.task must be mix, primes or echo, got 'pi'",
            "s.yaml line 6: do: 'explode' is not an action; one of stop, kill, pause, unpause,"
                + " start, disconnect, connect, fault, heal, mode, scale, revoke, unrevoke, readmit, attack",
            "s.yaml line 7: at 45 s is not before the end of the run (30 s)",
            "s.yaml line 8: an action needs at: its time from the start (e.g. 10s)",
            "s.yaml line 8: kill needs target: the node or coordinator (e.g. node-3)",
            "s.yaml line 9: mode takes no target: it acts on every coordinator",
            "s.yaml line 10: two actions are called 'kill node-3': give one a name:"
                + " (expectations refer to actions by name)",
            "s.yaml line 12: failed must be a whole number, got 'none'",
            "s.yaml line 13: p99 needs below: the bound (e.g. 500ms)",
            "s.yaml line 14: after: no action is called 'kill-9' (the timeline has: kill, mode,"
                + " kill node-3, kill node-3)",
            "s.yaml line 14: becomes: 'GONE' is not ALIVE, SUSPECT, DEAD, LEFT or QUARANTINED",
            "s.yaml line 15: one expectation per list item, found failed, wrong");
  }

  @Test
  void theTimelineRunsInTimeOrderWhateverTheOrderOfTheFile() throws Exception {
    Scenario s =
        parse(
            """
            name: out of order
            duration: 30s
            timeline:
              - {at: 20s, do: start, target: node-3}
              - {at: 10s, do: kill, target: node-3}
              - {at: 20s, do: heal, target: node-1}
            """);
    assertThat(s.timeline())
        .extracting(Scenario.Action::name)
        .containsExactly("kill node-3", "start node-3", "heal node-1");
  }

  @Test
  void missingEssentialsAndNonScenariosAreSaidPlainly() {
    assertThat(mistakes("name: x\n"))
        .containsExactly("s.yaml line 1: duration is missing: how long the load runs (e.g. 40s)");
    assertThat(mistakes("duration: 10s\nexpect:\n  - state: {becomes: DEAD, within: 1s}\n"))
        .containsExactly(
            "s.yaml line 1: name is missing: one line that says what the scenario shows",
            "s.yaml line 3: node is missing: the node whose state is expected (e.g. node-3)",
            "s.yaml line 3: after is missing: the name of the action it follows (e.g. kill-3)");
    assertThat(mistakes("- just\n- a list\n"))
        .containsExactly(
            "s.yaml line 1: a scenario is a mapping (name:, duration:, timeline:, expect: ...)");
    assertThat(mistakes("name: x\nduration: 10s\nname: y\n"))
        .containsExactly("s.yaml line 3: name appears twice (first on line 1)");
    assertThat(mistakes("name: [unclosed\nduration: 1s\n").get(0)).startsWith("s.yaml line ");
    assertThat(mistakes("name: x\nduration: soon\n"))
        .containsExactly(
            "s.yaml line 2: duration: 'soon' is not a duration; write e.g. 500ms, 10s or 2m",
            "s.yaml line 2: duration must be between 1 s and 4 h");
    assertThatThrownBy(() -> parse("")).isInstanceOf(ScenarioFile.Invalid.class);
  }

  @Test
  void countsTakeBoundsAndAWindowAndSayWhatIsWrong() throws Exception {
    Scenario s =
        parse(
            """
            name: n
            duration: 30s
            expect:
              - failed: {at least: 1, from: 9s, to: 16s}
              - wrong: {at most: 2}
            """);
    assertThat(s.expectations())
        .containsExactly(
            new Scenario.Count(
                4,
                Scenario.Outcome.FAILED,
                1,
                Scenario.Count.ANY,
                new Scenario.Window(Duration.ofSeconds(9), Duration.ofSeconds(16))),
            new Scenario.Count(5, Scenario.Outcome.WRONG, 0, 2, Scenario.Window.WHOLE_RUN));
    assertThat(
            mistakes(
                """
                name: n
                duration: 30s
                expect:
                  - failed: {from: 9s}
                  - failed: {at least: 3, at most: 1}
                  - wrong: {at most: -1, before: 2s}
                  - failed: [1]
                """))
        .containsExactly(
            "s.yaml line 4: failed needs at most: N, at least: N or both",
            "s.yaml line 5: at least 3 is more than at most 1",
            "s.yaml line 6: unknown key 'before'; the keys here are at least, at most, from, to",
            "s.yaml line 6: at most must be between 0 and 9223372036854775807, got -1",
            "s.yaml line 7: expected a mapping (key: value) here; the keys here are at least, at"
                + " most, from, to");
  }

  @Test
  void aModeActionUnderALoadThatChoosesItsOwnModeIsAMistake() {
    assertThat(
            mistakes(
                """
                name: n
                duration: 30s
                load: {mode: failover}
                timeline:
                  - {at: 10s, do: mode, mode: hedged}
                """))
        .containsExactly(
            "s.yaml line 5: the mode action changes nothing: load.mode (failover) makes every"
                + " request ask for its own mode, which wins over the coordinators'; leave"
                + " load.mode out (the coordinators' own mode applies)");
  }

  @Test
  void windowsLieInsideTheRunAndABoundThatSaysNothingIsRefused() {
    assertThat(
            mistakes(
                """
                name: n
                duration: 30s
                expect:
                  - failed: {at most: 0, from: 40s}
                  - p99: {below: 1s, from: 10s, to: 45s}
                  - failed: {at most: 0, from: 20s, to: 10s}
                  - failed: {at most: 0, to: soon}
                  - wrong: {at least: 0}
                  - wrong: {at least: 2, at most: x}
                """))
        .containsExactly(
            "s.yaml line 4: from: 40 s is not before the end of the run (30 s)",
            "s.yaml line 5: to: 45 s is after the end of the run (30 s)",
            "s.yaml line 6: the window ends (to: 10 s) before it starts",
            "s.yaml line 7: to: 'soon' is not a duration; write e.g. 500ms, 10s or 2m",
            "s.yaml line 8: at least: 0 allows anything; give at least 1, or at most",
            "s.yaml line 9: at most must be a whole number, got 'x'");
  }

  @Test
  void countsSayTheirBoundsInWords() throws Exception {
    Scenario s =
        parse(
            """
            name: n
            duration: 30s
            expect:
              - failed: 1
              - failed: {at least: 3, at most: 3}
              - wrong: {at least: 1}
              - wrong: {at least: 2, at most: 5, from: 10s}
            """);
    assertThat(s.expectations())
        .extracting(Scenario.Expectation::describe)
        .containsExactly(
            "at most 1 failed request",
            "exactly 3 failed requests",
            "at least 1 wrong request",
            "2 to 5 wrong requests sent between 10 s and 30 s");
  }

  @Test
  void theComposeLabHasNoClusterToSize() {
    assertThat(
            mistakes(
                """
                name: n
                target: compose
                cluster: {nodes: 3}
                duration: 30s
                timeline:
                  - {at: 5s, do: scale, pool: 2}
                """))
        .containsExactly(
            "s.yaml line 3: cluster is for target: local; the compose lab has the members"
                + " docker-compose.yml gives it (scale the pool with a scale action)");
  }

  @Test
  void aLocalClusterScalesItsNodesAndTheComposeLabItsPool() throws Exception {
    Scenario local =
        parse(
            """
            name: n
            cluster: {nodes: 1, coordinators: 1}
            load: {rate: 0, concurrency: 8, task: echo, echo: 100ms}
            duration: 45s
            timeline:
              - {at: 15s, do: scale, nodes: 3, name: out}
              - {at: 35s, do: scale, nodes: 1}
            """);
    assertThat(local.load().echoMs()).isEqualTo(100);
    assertThat(local.timeline().get(0).args()).containsExactly(Map.entry("nodes", "3"));
    assertThat(local.timeline().get(1).describe()).isEqualTo("scale (nodes 1)");
    assertThat(local.timeline().get(1).name()).isEqualTo("scale");
    assertThat(parse("name: n\nduration: 5s\n").load().echoMs())
        .as("an echo waits up to 20 ms unless the file says")
        .isEqualTo(20);
    assertThat(
            mistakes(
                """
                name: n
                load: {task: primes, echo: 20s}
                duration: 45s
                timeline:
                  - {at: 1s, do: scale, pool: 2, name: a}
                  - {at: 2s, do: scale, nodes: 0, name: b}
                  - {at: 3s, do: scale, nodes: 51, name: c}
                  - {at: 4s, do: scale, name: d}
                  - {at: 5s, do: scale, nodes: 2, pool: 2, name: e}
                """))
        .containsExactly(
            "s.yaml line 2: load.echo must be at most 10 s, got 20 s",
            "s.yaml line 2: load.echo is the echo tasks' longest wait: task primes has none",
            "s.yaml line 5: a local cluster has no pool service: scale it with nodes: N (the"
                + " nodes it has after)",
            "s.yaml line 6: nodes must be between 1 and 50, got 0",
            "s.yaml line 7: nodes must be between 1 and 50, got 51",
            "s.yaml line 8: scale needs nodes: the number of nodes after (local, e.g. 3) or pool:"
                + " the number of pool nodes (compose, e.g. 2)",
            "s.yaml line 9: scale takes nodes: (local) or pool: (compose), not both");
    assertThat(
            mistakes(
                """
                name: n
                target: compose
                duration: 30s
                timeline:
                  - {at: 5s, do: scale, nodes: 2}
                """))
        .containsExactly(
            "s.yaml line 5: the compose lab scales its pool service (pool: N, the nodes beyond"
                + " node-1 to node-5); nodes: N is for a local cluster");
  }

  @Test
  void anyNodeIsOneNodeChosenWithTheSeedTheSameEverywhereAndEveryTime() throws Exception {
    String file =
        """
        name: n
        seed: 7
        cluster: {nodes: 5}
        duration: 30s
        timeline:
          - {at: 5s, do: kill, target: any node}
          - {at: 15s, do: start, target: any node}
        expect:
          - state: {node: any node, becomes: DEAD, within: 2s, after: kill any node}
        """;
    Scenario s = parse(file);
    String node = s.picks().get("any node");
    assertThat(node).matches("node-[1-5]");
    assertThat(s.timeline()).extracting(Scenario.Action::target).containsExactly(node, node);
    assertThat(s.timeline())
        .extracting(Scenario.Action::name)
        .containsExactly("kill " + node, "start " + node);
    assertThat(((Scenario.StateWithin) s.expectations().get(0)).node()).isEqualTo(node);
    assertThat(((Scenario.StateWithin) s.expectations().get(0)).afterAction())
        .isEqualTo("kill " + node);
    assertThat(parse(file).picks()).as("the same seed, the same choice").isEqualTo(s.picks());
    java.util.Set<String> chosen = new java.util.HashSet<>();
    for (int seed = 1; seed <= 20; seed++) {
      chosen.add(parse(file.replace("seed: 7", "seed: " + seed)).picks().get("any node"));
    }
    assertThat(chosen).as("other seeds choose other nodes").hasSizeGreaterThan(1);
    assertThat(parse("name: n\nduration: 5s\n").picks()).as("none chosen if none asked").isEmpty();
    Scenario words =
        parse(
            """
            name: n
            duration: 30s
            timeline:
              - {at: 5s, do: kill, target: node-2, name: kill one of many nodes}
            """);
    assertThat(words.timeline().get(0).name()).isEqualTo("kill one of many nodes");
    assertThat(words.picks()).isEmpty();
  }

  @Test
  void aShareNeedsANodeAndPercentages() {
    assertThat(
            mistakes(
                """
                name: n
                duration: 30s
                expect:
                  - share: {node: node-2}
                  - share: {at most: 5%}
                  - share: {node: node-2, at most: 5, at least: 120%}
                  - share: {node: node-2, at least: 50%, at most: 10%}
                """))
        .containsExactly(
            "s.yaml line 4: share needs at most: N%, at least: N% or both",
            "s.yaml line 5: node is missing: the node whose share is expected (e.g. node-2)",
            "s.yaml line 6: at most must be a percentage from 0% to 100%, e.g. 5%; got '5'",
            "s.yaml line 6: at least must be a percentage from 0% to 100%, e.g. 5%; got '120%'",
            "s.yaml line 7: at least 50.0% is more than at most 10.0%");
  }

  @Test
  void attacksRevocationsAndRefusalsReadWithTheirDefaultsAndMistakes() throws Exception {
    Scenario s =
        parse(
            """
            name: n
            cluster: {nodes: 4, tls: true}
            duration: 30s
            timeline:
              - {at: 4s, do: attack, attack: impersonate, target: node-1}
              - {at: 5s, do: attack, attack: switch-mode, target: coordinator-2, as: self-made}
              - {at: 6s, do: attack, attack: switch-mode, target: coordinator-1}
              - {at: 9s, do: revoke, target: node-3}
              - {at: 12s, do: unrevoke, target: node-3}
            expect:
              - refused: {by: guards, at most: 0}
              - state: {node: node-3, becomes: LEFT, within: 1s, after: revoke node-3}
            """);
    assertThat(s.tls()).isTrue();
    assertThat(s.timeline())
        .extracting(Scenario.Action::describe)
        .containsExactly(
            "attack: beat for node-1 with node-2's certificate",
            "attack: switch coordinator-2's mode with a self-made admin certificate",
            "attack: switch coordinator-1's mode with the client's certificate",
            "revoke node-3",
            "unrevoke node-3");
    assertThat(parse("name: n\nduration: 5s\n").tls()).as("plaintext by default").isFalse();
    assertThat(
            mistakes(
                """
                name: n
                cluster: {tls: yes please}
                duration: 30s
                timeline:
                  - {at: 1s, do: attack, target: node-1}
                  - {at: 2s, do: attack, attack: flood, target: node-4}
                  - {at: 3s, do: attack, attack: impersonate, target: coordinator-1}
                  - {at: 4s, do: attack, attack: switch-mode, target: node-2, name: a}
                  - {at: 5s, do: attack, attack: impersonate, target: node-2, as: client}
                  - {at: 6s, do: attack, attack: impersonate, target: node-2, as: node-2}
                  - {at: 7s, do: attack, attack: switch-mode, target: coordinator-1, as: a b}
                  - {at: 8s, do: revoke, target: node-3, as: node-1}
                expect:
                  - refused: {at least: 1}
                  - refused: {by: firewall, at most: 3}
                  - refused: {by: identity}
                  - refused: {by: identity, at least: 0}
                """))
        .containsExactly(
            "s.yaml line 2: cluster.tls must be true or false, got 'yes please'",
            "s.yaml line 5: attack needs attack: one of impersonate, switch-mode",
            "s.yaml line 6: attack: 'flood' is not one of impersonate, switch-mode",
            "s.yaml line 7: impersonate's target is the node whose id is claimed (node-N)",
            "s.yaml line 8: switch-mode's target is the coordinator (coordinator-N)",
            "s.yaml line 9: impersonate is done with a node's certificate (as: node-N)",
            "s.yaml line 10: as: node-2 is the target itself: that is no attack",
            "s.yaml line 11: as: 'a b' is not a certificate's name (node-3, client), 'no"
                + " certificate' or 'self-made'",
            "s.yaml line 12: revoke takes no as:",
            "s.yaml line 14: by is missing: the defence that refuses: handshake, authorization,"
                + " identity, revocation, rate_limit, guards",
            "s.yaml line 15: by: 'firewall' is not one of handshake, authorization, identity,"
                + " revocation, rate_limit, guards",
            "s.yaml line 16: refused needs at most: N, at least: N or both",
            "s.yaml line 17: at least: 0 allows anything; give at least 1, or at most");
    assertThat(
            mistakes(
                """
                name: n
                target: compose
                duration: 30s
                timeline:
                  - {at: 5s, do: revoke, target: node-3}
                """))
        .containsExactly(
            "s.yaml line 5: revoke runs on a local cluster (target: local; revoke needs cluster:"
                + " {tls: true}); in the compose lab, docker/journey-tls.sh shows the defences");
  }

  @Test
  void aStateCanBeExpectedWithinANumberOfVotes() throws Exception {
    Scenario s =
        parse(
            """
            name: n
            duration: 30s
            timeline:
              - {at: 5s, do: mode, mode: vote}
            expect:
              - state: {node: node-2, becomes: QUARANTINED, within: 5 votes, after: mode}
              - state: {node: node-2, becomes: QUARANTINED, within: 1 Vote, after: mode}
            """);
    assertThat(s.expectations())
        .extracting(e -> ((Scenario.StateWithin) e).votes())
        .containsExactly(5L, 1L);
    assertThat(
            mistakes(
                """
                name: n
                duration: 30s
                timeline:
                  - {at: 5s, do: mode, mode: vote}
                expect:
                  - state: {node: node-2, becomes: QUARANTINED, within: 0 votes, after: mode}
                  - state: {node: node-2, becomes: QUARANTINED, within: five votes, after: mode}
                """))
        .containsExactly(
            "s.yaml line 6: within: N votes needs N from 1 to 1000000, got 0",
            "s.yaml line 7: within: 'five votes' is neither a duration (500ms, 10s) nor a count of"
                + " votes (5 votes)");
  }

  @Test
  void throughputTakesRatesOrMultiplesOfABaseline() {
    assertThat(
            mistakes(
                """
                name: n
                duration: 30s
                expect:
                  - throughput: {from: 10s}
                  - throughput: {at least: 40}
                  - throughput: {at least: 2x}
                  - throughput: {at least: 40/s, baseline: {from: 0s, to: 10s}}
                  - throughput: {at least: 2x, baseline: {}}
                  - throughput: {at least: 50/s, at most: 20/s}
                  - throughput: {at least: 0/s}
                """))
        .containsExactly(
            "s.yaml line 4: throughput needs at least: N/s, at most: N/s or both (Nx with a"
                + " baseline)",
            "s.yaml line 5: at least must be requests per second, e.g. 40/s (or 1.5x with a"
                + " baseline:); got '40'",
            "s.yaml line 6: at least must be requests per second, e.g. 40/s (or 1.5x with a"
                + " baseline:); got '2x'",
            "s.yaml line 7: at least must be a multiple of the baseline's throughput, e.g. 1.5x;"
                + " got '40/s'",
            "s.yaml line 8: baseline needs from: and to: (the window to compare to)",
            "s.yaml line 9: at least 50.0/s is more than at most 20.0/s",
            "s.yaml line 10: at least: 0/s allows anything; give more, or at most");
  }

  @Test
  void everyScenarioInTheDocsReads() throws IOException {
    List<Path> files = new java.util.ArrayList<>();
    for (Path dir : List.of(Path.of("..", "docs", "labs"), Path.of("..", "docs", "scenarios"))) {
      try (Stream<Path> s = Files.list(dir)) {
        files.addAll(s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList());
      }
    }
    assertThat(files).isNotEmpty();
    for (Path f : files) {
      try {
        ScenarioFile.parse(f.toString(), Files.readString(f));
      } catch (ScenarioFile.Invalid e) {
        throw new AssertionError(f + ":\n" + String.join("\n", e.errors()), e);
      }
    }
  }
}
