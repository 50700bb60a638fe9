package ftlab.client.it;

import static ftlab.proto.NodeState.ALIVE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ftlab.proto.MembershipGrpc;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser, on a real cluster under a checked load: it shows every node, its
 * freeze button makes that tile go SUSPECT then DEAD, heal brings it back ALIVE. It prints how long
 * the page took to show the death after the coordinator decided it, and saves screenshots under
 * {@code target/} (the README's picture is one of them).
 */
class DashboardBrowserIT {
  private static final Duration SOON = Duration.ofSeconds(10);

  /** Records, in the page, when each tile's state changes (the browser's own clock). */
  private static final String WATCH_TILES =
      "window.ftlabChanges = [];"
          + "new MutationObserver(ms => ms.forEach(m => {"
          + "  if (m.attributeName === 'data-state') window.ftlabChanges.push("
          + "    {node: m.target.dataset.node, state: m.target.dataset.state, at: Date.now()});"
          + "})).observe(document.getElementById('nodes'),"
          + "  {attributes: true, subtree: true, attributeFilter: ['data-state']});";

  private static String tileState(ChromeDriver b, String node) {
    return b.findElement(By.cssSelector(".node[data-node='" + node + "']"))
        .getAttribute("data-state");
  }

  private static WebElement button(ChromeDriver b, String node, String action) {
    return b.findElement(
        By.cssSelector(".node[data-node='" + node + "'] button[data-action='" + action + "']"));
  }

  @Test
  void freezingANodeFromTheDashboardTurnsItsTileSuspectThenDeadAndHealBringsItBack()
      throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3)) {
      ClusterProbe p = c.probe;
      p.startLoad();
      p.awaitMoreAnswers(20);
      Path profile = Files.createTempDirectory("ftlab-chromium-");
      ChromeDriver browser = RealBrowser.start(profile);
      try {
        WebDriverWait wait = new WebDriverWait(browser, SOON, Duration.ofMillis(50));
        openCoordinator1(browser, c, wait);
        wait.until(
            b -> "true".equals(b.findElement(By.id("connection")).getAttribute("data-connected")));
        wait.until(b -> b.findElements(By.cssSelector("#answers tr")).size() >= 5);
        assertThat(browser.findElement(By.id("coordinator")).getText())
            .contains("coordinator-1")
            .contains("failover");
        assertThat(browser.findElement(By.id("dead-words")).getText())
            .isEqualTo("no heartbeat for 600 ms");
        // plaintext: the scoreboard says so, and the page may change things
        assertThat(browser.findElement(By.id("security-mode")).getAttribute("data-tls"))
            .isEqualTo("false");
        assertThat(browser.findElement(By.id("security-mode")).getText()).startsWith("plaintext");
        assertThat(browser.findElement(By.id("read-only")).isDisplayed()).isFalse();
        assertThat(browser.findElement(By.id("mode-form")).isDisplayed()).isTrue();
        // the charts: a point a second, drawn by uPlot from the jar
        wait.until(
            b -> Integer.parseInt(b.findElement(By.id("chart")).getAttribute("data-points")) >= 2);
        assertThat(browser.findElements(By.cssSelector("#chart canvas"))).isNotEmpty();
        // the other coordinator, one click away, and what it concluded
        WebElement other =
            browser.findElement(
                By.cssSelector("#coordinators a[data-coordinator='coordinator-2']"));
        assertThat(other.getAttribute("href"))
            .isEqualTo("http://127.0.0.1:" + c.cluster.member("coordinator-2").httpPort() + "/");
        // (it may see a node SUSPECT a moment: the cluster's JVMs started together)
        wait.until(b -> other.getText().contains("3 ALIVE"));
        assertThat(other.getAttribute("data-reachable")).isEqualTo("true");
        // one request, attempt by attempt: the row clicked is the one drawn
        // (read and clicked in one script: rows are added at the top every 250 ms)
        @SuppressWarnings("unchecked")
        List<Object> clicked =
            (List<Object>)
                browser.executeScript(
                    "const r = document.querySelector('#answers tr'); r.cells[0].click();"
                        + " return [r.dataset.request, r.cells[3].textContent];");
        String request = (String) clicked.get(0);
        int attempts = Integer.parseInt((String) clicked.get(1));
        wait.until(
            b ->
                request.equals(
                    b.findElement(By.cssSelector("#lanes svg")).getAttribute("data-request")));
        assertThat(browser.findElements(By.cssSelector("#lanes svg g.attempt"))).hasSize(attempts);
        assertThat(browser.findElement(By.id("follow")).isDisplayed()).isTrue();
        browser.findElement(By.id("follow")).click();
        System.out.println("[browser] " + RealBrowser.screenshot(browser, "dashboard-alive"));

        browser.executeScript(WATCH_TILES);
        long clickedAt = (Long) browser.executeScript("return Date.now();");
        button(browser, "node-2", "freeze").click();
        wait.until(
            b -> b.findElement(By.id("status")).getText().contains("node-2 now has: freeze"));
        // the timeline has both transitions (a tile, sampled every 250 ms, may skip SUSPECT's
        // 300 ms), and the tile ends DEAD
        wait.until(
            b ->
                !b.findElements(By.cssSelector("#events li[data-node='node-2'][data-to='SUSPECT']"))
                    .isEmpty());
        wait.until(b -> tileState(browser, "node-2").equals("DEAD"));
        // the click is confirmed as 'ftlab chaos' confirms it: the coordinator's view shows it
        wait.until(
            b -> "yes".equals(b.findElement(By.id("status")).getAttribute("data-confirmed")));
        assertThat(browser.findElement(By.id("status")).getText())
            .contains("coordinator-1 sees it: it is silent: SUSPECT")
            .containsPattern("\\d+ ms after the click");
        // the tile follows the polled view, the timeline and the charts the event stream: either
        // may show DEAD first, so wait for the event too
        wait.until(
            b ->
                !b.findElements(By.cssSelector("#events li[data-node='node-2'][data-to='DEAD']"))
                    .isEmpty());
        // and the charts shade node-2's time out of ALIVE, still open (an earlier window, a false
        // suspicion while the cluster's JVMs started together, may be there too)
        assertThat(
                (Long)
                    browser.executeScript(
                        "return faultWindows().filter(w => w.node === 'node-2'"
                            + " && w.kind === 'down' && w.to === null && w.label === 'DEAD').length;"))
            .isEqualTo(1L);
        assertThat(
                browser.findElement(By.cssSelector(".node[data-node='node-2'] .reason")).getText())
            .startsWith("no heartbeat for");
        System.out.println("[browser] " + RealBrowser.screenshot(browser, "dashboard-node-2-dead"));

        @SuppressWarnings("unchecked")
        List<java.util.Map<String, Object>> changes =
            (List<java.util.Map<String, Object>>)
                browser.executeScript("return window.ftlabChanges;");
        long shownDeadAt =
            changes.stream()
                .filter(m -> "node-2".equals(m.get("node")) && "DEAD".equals(m.get("state")))
                .mapToLong(m -> ((Number) m.get("at")).longValue())
                .findFirst()
                .orElseThrow();
        long decidedAt = eventAt(browser, "#events li[data-node='node-2'][data-to='DEAD']");
        long appliedAt = eventAt(browser, "#events li[data-kind='control']");
        System.out.printf(
            Locale.ROOT,
            "[browser] freeze clicked at 0 ms; node-2 frozen (the node's reply) at %d ms;"
                + " coordinator-1 decided DEAD at %d ms (%d ms after the node's reply); the"
                + " tile showed it at %d ms: %d ms after the decision (one machine, one wall"
                + " clock)%n",
            appliedAt - clickedAt,
            decidedAt - clickedAt,
            decidedAt - appliedAt,
            shownDeadAt - clickedAt,
            shownDeadAt - decidedAt);

        button(browser, "node-2", "heal").click();
        wait.until(b -> tileState(browser, "node-2").equals("ALIVE"));
        wait.until(
            b ->
                b.findElement(By.id("status"))
                    .getText()
                    .contains("coordinator-1 sees it: it beats again: ALIVE"));
        p.awaitState("node-2", ALIVE, SOON);
        wait.until(
            b ->
                browser
                    .findElement(By.cssSelector(".node[data-node='node-2'] .faults"))
                    .getText()
                    .isEmpty());
        System.out.println("[browser] " + RealBrowser.screenshot(browser, "dashboard-healed"));
      } finally {
        browser.quit();
      }
      p.awaitMoreAnswers(60);
      p.stopLoadAndAssertNoClientVisibleFailure();
    }
  }

  /** Opens coordinator-1's dashboard and waits until it shows the 3 nodes ALIVE. */
  private static void openCoordinator1(ChromeDriver browser, RunningCluster c, WebDriverWait wait) {
    browser.get("http://127.0.0.1:" + c.cluster.member("coordinator-1").httpPort() + "/");
    wait.until(b -> b.findElements(By.cssSelector(".node[data-state='ALIVE']")).size() == 3);
  }

  private static String layerCount(org.openqa.selenium.WebDriver b, String layer) {
    return b.findElement(By.cssSelector("#layers .layer[data-layer='" + layer + "']"))
        .getAttribute("data-count");
  }

  @Test
  void withMutualTlsThePageIsReadOnlyAndItsScoreboardShowsEachAttackWhereItWasCaught()
      throws Exception {
    try (RunningCluster c = new RunningCluster(2, 3, true)) {
      ClusterProbe p = c.probe;
      p.startLoad();
      p.awaitMoreAnswers(20);
      Path certs = c.cluster.tlsFolder();
      String coordinator1 = c.cluster.member("coordinator-1").address();
      Path profile = Files.createTempDirectory("ftlab-chromium-");
      ChromeDriver browser = RealBrowser.start(profile);
      List<ManagedChannel> channels = new ArrayList<>();
      try {
        WebDriverWait wait = new WebDriverWait(browser, SOON, Duration.ofMillis(50));
        openCoordinator1(browser, c, wait);
        wait.until(
            b -> "true".equals(b.findElement(By.id("security-mode")).getAttribute("data-tls")));
        assertThat(browser.findElement(By.id("security-mode")).getText())
            .startsWith(
                "mutual TLS as coordinator coordinator-1 (spiffe://ftlab/coordinator/coordinator-1)")
            .containsPattern("[0-9]+ TLS handshakes");
        // read-only: no mode form, no fault buttons (its HTTP port has no login), and it says so
        assertThat(browser.findElement(By.id("read-only")).isDisplayed()).isTrue();
        assertThat(browser.findElement(By.id("mode-form")).isDisplayed()).isFalse();
        assertThat(button(browser, "node-2", "freeze").isDisplayed()).isFalse();
        for (String layer : List.of("authorization", "identity", "revocation", "vote")) {
          assertThat(layerCount(browser, layer)).as(layer).isEqualTo("0");
        }

        // a valid client certificate heartbeating: the table refuses it
        ManagedChannel asClient =
            Grpc.newChannelBuilder(
                    coordinator1, TlsFiles.read(certs, "client").channel(Role.COORDINATOR))
                .build();
        channels.add(asClient);
        assertThatThrownBy(
                () ->
                    MembershipGrpc.newBlockingStub(asClient)
                        .withDeadlineAfter(5, TimeUnit.SECONDS)
                        .heartbeat(
                            HostileHeartbeatsIT.heartbeat("client", coordinator1, 1, 1).build()))
            .isInstanceOf(StatusRuntimeException.class);
        wait.until(b -> !layerCount(b, "authorization").equals("0"));
        assertThat(layerCount(browser, "authorization")).isEqualTo("1");
        assertThat(browser.findElement(By.id("last-refusal")).getText())
            .contains("authorization refused client client at 127.0.0.1:")
            .contains("is for a node only");

        // node-3's certificate speaking for node-1: the identity check refuses it
        ManagedChannel asNode3 =
            Grpc.newChannelBuilder(
                    coordinator1, TlsFiles.read(certs, "node-3").channel(Role.COORDINATOR))
                .build();
        channels.add(asNode3);
        assertThatThrownBy(
                () ->
                    MembershipGrpc.newBlockingStub(asNode3)
                        .withDeadlineAfter(5, TimeUnit.SECONDS)
                        .heartbeat(
                            HostileHeartbeatsIT.heartbeat(
                                    "node-1", coordinator1, System.currentTimeMillis(), 1)
                                .build()))
            .isInstanceOf(StatusRuntimeException.class);
        wait.until(b -> !layerCount(b, "identity").equals("0"));
        assertThat(layerCount(browser, "identity")).isEqualTo("1");

        // ftlab revoke node-3: its own heartbeats are refused from then on, and the page says who
        // is revoked
        FtlabCli.Run revoke = FtlabCli.run(c.cluster.stateDir(), "revoke", "node-3");
        assertThat(revoke.exit()).as(revoke.out() + revoke.err()).isZero();
        wait.until(b -> Integer.parseInt(layerCount(b, "revocation")) > 0);
        wait.until(b -> tileState(browser, "node-3").equals("LEFT"));
        assertThat(browser.findElement(By.id("revoked")).getText()).isEqualTo("revoked: node-3");
        assertThat(browser.findElement(By.id("last-refusal")).getText())
            .contains("revocation refused node node-3");
        System.out.println("[browser] " + RealBrowser.screenshot(browser, "dashboard-defences"));

        FtlabCli.Run undo = FtlabCli.run(c.cluster.stateDir(), "revoke", "--undo", "node-3");
        assertThat(undo.exit()).as(undo.out() + undo.err()).isZero();
        wait.until(b -> tileState(browser, "node-3").equals("ALIVE"));
      } finally {
        channels.forEach(ManagedChannel::shutdownNow);
        browser.quit();
      }
      p.awaitMoreAnswers(40);
      p.stopLoadAndAssertNoClientVisibleFailure();
    }
  }

  /** The coordinator's time stamp of the newest event in the timeline that matches. */
  private static long eventAt(ChromeDriver browser, String css) {
    return Long.parseLong(browser.findElement(By.cssSelector(css)).getAttribute("data-at"));
  }
}
