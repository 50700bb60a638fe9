package ftlab.client.compose;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
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

  @Test
  void aProjectOfItsOwnAddsItsNameFileAndVariables() throws Exception {
    // a stand-in for docker-compose: answers "version", and says what it was given; under target/
    // (a temporary folder may be mounted noexec)
    Path dir = Files.createDirectories(Path.of("target", "compose-test"));
    Path fake = dir.resolve("fake-compose");
    Files.writeString(fake, "#!/bin/sh\necho \"args: $*; capacity: $FTLAB_CAPACITY\"\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwx------"));
    Compose plain = Compose.find(fake.toString());
    Compose own =
        plain.forProject("ftlab-bench", dir.resolve("lab.yml"), Map.of("FTLAB_CAPACITY", "3"));
    assertThat(own.run(Duration.ofSeconds(10), "up", "-d"))
        .isEqualTo("args: -p ftlab-bench -f " + dir.resolve("lab.yml") + " up -d; capacity: 3\n");
    assertThat(own.describe()).isEqualTo(fake + " -p ftlab-bench -f " + dir.resolve("lab.yml"));
    assertThat(plain.run(Duration.ofSeconds(10), "ps"))
        .as("the command it came from is unchanged")
        .isEqualTo(
            "args: ps; capacity: " + System.getenv().getOrDefault("FTLAB_CAPACITY", "") + "\n");
  }
}
