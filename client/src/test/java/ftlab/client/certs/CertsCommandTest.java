package ftlab.client.certs;

import static org.assertj.core.api.Assertions.assertThat;

import ftlab.client.FtlabMain;
import ftlab.security.Identity;
import ftlab.security.Role;
import ftlab.security.TlsFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ftlab certs --split}: a folder per process with only what that process needs. */
class CertsCommandTest {
  @TempDir Path dir;

  private int certs(String... args) {
    return new CommandLine(new FtlabMain())
        .execute(
            Stream.concat(Stream.of("certs", "--dir", dir.toString()), Stream.of(args))
                .toArray(String[]::new));
  }

  private List<String> files(Path folder) throws IOException {
    try (Stream<Path> files = Files.list(folder)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void splitGivesEachProcessItsOwnFolderWithoutTheAuthoritysKey() throws IOException {
    assertThat(certs("--split", "--coordinators", "1", "--nodes", "2", "--node", "pool-1"))
        .isZero();

    assertThat(files(dir.resolve("coordinator-1")))
        .containsExactly("ca.pem", "coordinator-1.key", "coordinator-1.pem");
    assertThat(files(dir.resolve("node-2"))).containsExactly("ca.pem", "node-2.key", "node-2.pem");
    assertThat(files(dir.resolve("pool-1"))).containsExactly("ca.pem", "pool-1.key", "pool-1.pem");
    // the CLI's folder: every client and admin certificate, as --as picks one
    assertThat(files(dir.resolve(CertsCommand.CLI_FOLDER)))
        .containsExactly("admin.key", "admin.pem", "ca.pem", "client.key", "client.pem");
    // the authority's key stays where it was, and only there
    assertThat(dir.resolve(TlsFiles.CA_KEY)).exists();
    assertThat(Files.readString(dir.resolve("node-1/ca.pem")))
        .isEqualTo(Files.readString(dir.resolve("ca.pem")));

    // each folder is one a process can start from, as what it is
    assertThat(TlsFiles.read(dir.resolve("node-2"), "node-2", Role.NODE).self())
        .isEqualTo(new Identity(Role.NODE, "node-2"));
    assertThat(TlsFiles.read(dir.resolve("cli"), "admin", Role.ADMIN).self())
        .isEqualTo(new Identity(Role.ADMIN, "admin"));
    assertThat(
            TlsFiles.read(dir.resolve("coordinator-1"), "coordinator-1", Role.COORDINATOR).self())
        .isEqualTo(new Identity(Role.COORDINATOR, "coordinator-1"));
  }

  @Test
  void runAgainItRenewsTheFoldersOfTheNamesAskedFor() throws IOException {
    assertThat(certs("--split", "--coordinators", "1", "--nodes", "1")).isZero();
    String before = Files.readString(dir.resolve("node-1/node-1.pem"));
    String coordinatorBefore = Files.readString(dir.resolve("coordinator-1/coordinator-1.pem"));

    assertThat(certs("--split", "--only", "--node", "node-1")).isZero();

    assertThat(Files.readString(dir.resolve("node-1/node-1.pem")))
        .isNotEqualTo(before)
        .isEqualTo(Files.readString(dir.resolve("node-1.pem")));
    assertThat(Files.readString(dir.resolve("coordinator-1/coordinator-1.pem")))
        .isEqualTo(coordinatorBefore);
  }

  @Test
  void aNodeCalledLikeTheClisFolderIsRefused() {
    assertThat(certs("--split", "--node", CertsCommand.CLI_FOLDER)).isEqualTo(2);
    assertThat(dir.resolve(CertsCommand.CLI_FOLDER)).doesNotExist();
  }
}
