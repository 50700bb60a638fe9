package ftlab.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code revoked} file: what is written is read back, and writers of one folder (two
 * coordinators and the CLI of {@code ftlab local up --tls}, each a process of its own) never lose
 * each other's names.
 */
class RevocationsTest {
  private static final int EACH = 100;

  @TempDir Path dir;

  @Test
  void namesWrittenAreReadBackAndTheFolderIsRemembered() throws IOException {
    assertThat(Revocations.read(dir, 0).names()).isEmpty();
    assertThat(new Revocations().folder()).isEmpty();

    Revocations.write(dir, "node-4", false);
    Revocations.write(dir, "client", false);
    Revocations.write(dir, "node-4", false); // twice: one line
    Revocations.write(dir, "client", true);

    Revocations read = Revocations.read(dir, 0);
    assertThat(read.names()).containsExactly("node-4");
    assertThat(read.folder()).contains(dir);
    assertThat(Revocations.readNames(dir.resolve(Revocations.FILE))).containsExactly("node-4");
  }

  @Test
  void aNodeRevokesWhatCoordinatorsListAndTakesItBackOnlyWhenNoneListsItAnyMore()
      throws IOException {
    Revocations.write(dir, "admin-2", false); // the node's own file: the operator's, not theirs
    Revocations node = Revocations.read(dir, 0);

    assertThat(node.hear("coordinator-1", List.of("admin-2", "node-3"), 5))
        .containsExactly(new Revocations.Change("node-3", false, "coordinator-1"));
    assertThat(node.hear("coordinator-1", List.of("admin-2", "node-3"), 6)).isEmpty(); // again
    assertThat(node.hear("coordinator-2", List.of("node-3", "node-4"), 7))
        .containsExactly(new Revocations.Change("node-4", false, "coordinator-2"));
    assertThat(node.names()).containsExactly("admin-2", "node-3", "node-4");

    // coordinator-1 takes node-3 back (revoke --undo) and no longer lists admin-2: coordinator-2
    // still lists node-3, so it stays; admin-2 is the file's
    assertThat(node.hear("coordinator-1", List.of(), 8)).isEmpty();
    assertThat(node.names()).containsExactly("admin-2", "node-3", "node-4");
    // once coordinator-2 takes them back too, they are out
    assertThat(node.hear("coordinator-2", List.of(), 9))
        .containsExactly(
            new Revocations.Change("node-3", true, "coordinator-2"),
            new Revocations.Change("node-4", true, "coordinator-2"));
    assertThat(node.names()).containsExactly("admin-2");
    // a name no certificate can have (a line break in it) is not taken
    assertThat(node.hear("coordinator-1", List.of("x\rnode-1", ""), 10)).isEmpty();
    assertThat(node.names()).containsExactly("admin-2");
  }

  @Test
  void whoToldANodeOfANameIsKeptInItsFileSoThatItCanStillBeTakenBackAfterARestart()
      throws IOException {
    Revocations.write(dir, "admin-2", false);
    Revocations.write(dir, "node-3", false, "told by coordinator-1");
    assertThat(Files.readString(dir.resolve(Revocations.FILE)))
        .contains("\nadmin-2\n")
        .contains("\nnode-3  # told by coordinator-1\n");
    Revocations.write(dir, "node-4", false); // another writer keeps the note
    assertThat(Files.readString(dir.resolve(Revocations.FILE)))
        .contains("\nnode-3  # told by coordinator-1\n");

    Revocations restarted = Revocations.read(dir, 0);
    assertThat(restarted.names()).containsExactly("admin-2", "node-3", "node-4");
    assertThat(restarted.hear("coordinator-1", List.of(), 1))
        .containsExactly(new Revocations.Change("node-3", true, "coordinator-1"));
    assertThat(Revocations.readNames(dir.resolve(Revocations.FILE)))
        .containsExactly("admin-2", "node-3", "node-4"); // the file is the caller's to change
  }

  @Test
  void writersInThisProcessAndAnotherNeverLoseEachOthersNames() throws Exception {
    // another JVM writes other-1..N while two threads here write a-1..N and b-1..N
    Process other =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                Writer.class.getName(),
                dir.toString(),
                "other",
                String.valueOf(EACH))
            // its stderr to the test's own: a JVM notice there must not come before "ready"
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      // all three start together: the other JVM says when it is up, and waits for the word
      var fromOther =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(
                  other.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      assertThat(fromOther.readLine()).as("the other writer's first line").isEqualTo("ready");
      other.getOutputStream().write("go\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
      other.getOutputStream().flush();
      List<Future<?>> here = new ArrayList<>();
      for (String prefix : List.of("a", "b")) {
        here.add(
            threads.submit(
                () -> {
                  Writer.write(dir, prefix, EACH);
                  return null;
                }));
      }
      for (Future<?> f : here) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertThat(other.waitFor(60, TimeUnit.SECONDS)).as("the other writer finished").isTrue();
      assertThat(other.exitValue()).as(new String(other.getInputStream().readAllBytes())).isZero();
    } finally {
      threads.shutdownNow();
      other.destroyForcibly();
    }

    List<String> names = Revocations.readNames(dir.resolve(Revocations.FILE));
    assertThat(names).hasSize(3 * EACH).doesNotHaveDuplicates();
    for (String prefix : List.of("a", "b", "other")) {
      for (int i = 1; i <= EACH; i++) {
        assertThat(names).contains(prefix + "-" + i);
      }
    }
    // and no temporary file is left behind
    try (var files = Files.list(dir)) {
      assertThat(files.map(f -> f.getFileName().toString()))
          .containsExactlyInAnyOrder(Revocations.FILE, ".revoked.lock");
    }
  }

  /** Writes PREFIX-1..N into a folder's revocation file, one name at a time. */
  public static final class Writer {
    public static void main(String[] args) throws IOException {
      Path dir = Path.of(args[0]);
      System.out.println("ready");
      System.out.flush();
      // blocks until the test says go (or ends, if the test went away)
      String word =
          new java.io.BufferedReader(
                  new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8))
              .readLine();
      if (!"go".equals(word)) {
        throw new IllegalStateException("no word to go, got " + word);
      }
      write(dir, args[1], Integer.parseInt(args[2]));
    }

    static void write(Path dir, String prefix, int n) throws IOException {
      for (int i = 1; i <= n; i++) {
        Revocations.write(dir, prefix + "-" + i, false);
      }
    }
  }
}
