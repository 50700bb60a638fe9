package ftlab.client.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The process plumbing under the compose target, with commands every Linux has. */
class ComposeTest {
  @Test
  void aCommandThatIsNotThereIsSaidWithWhatWasTried() {
    assertThatThrownBy(() -> Compose.find("no-such-compose-here -p lab"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith("no Docker compose found: tried no-such-compose-here -p lab (")
        .hasMessageContaining("could not be run")
        .hasMessageEndingWith("Install Docker with compose, or give the command with --compose");
  }

  @Test
  void outputIsReturnedAndAFailureCarriesItsOutputAndExitCode() throws Exception {
    assertThat(Compose.exec(Duration.ofSeconds(10), List.of("sh", "-c", "echo hello")))
        .isEqualTo("hello\n");
    assertThatThrownBy(
            () ->
                Compose.exec(Duration.ofSeconds(10), List.of("sh", "-c", "echo nope >&2; exit 3")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("sh -c echo nope >&2; exit 3 failed (exit 3): nope");
  }

  @Test
  void aCommandThatDoesNotEndInTimeIsStopped() {
    long start = System.nanoTime();
    assertThatThrownBy(() -> Compose.exec(Duration.ofMillis(300), List.of("sleep", "30")))
        .hasMessage("sleep 30 did not finish within 300 ms");
    assertThat(System.nanoTime() - start).isLessThan(Duration.ofSeconds(20).toNanos());
  }
}
