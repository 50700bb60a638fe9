package ftlab.client.local;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the node and coordinator fat jars are. Looked up under the ftlab home: the system property
 * {@code ftlab.home} (set by the {@code ./ftlab} script and by the tests), else {@code FTLAB_HOME},
 * else the checkout this client jar was built in ({@code client/target/..} twice up). Within the
 * home, both a checkout ({@code node/target/ftlab-node.jar}) and a flat folder ({@code
 * ftlab-node.jar}, as in a container image) work.
 */
public record Jars(Path node, Path coordinator) {

  public static Jars locate() {
    Path home = home();
    return new Jars(find(home, "node"), find(home, "coordinator"));
  }

  /** The ftlab home: the checkout, or the folder that holds the jars. */
  public static Path home() {
    String prop = System.getProperty("ftlab.home");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    String env = System.getenv("FTLAB_HOME");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    try {
      Path self = Path.of(Jars.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      // .../client/target/ftlab-client.jar -> the checkout
      Path parent = self.getParent();
      if (parent != null && parent.getParent() != null && parent.getParent().getParent() != null) {
        return parent.getParent().getParent();
      }
      return Path.of(".");
    } catch (URISyntaxException | RuntimeException e) {
      return Path.of(".");
    }
  }

  private static Path find(Path home, String module) {
    String jar = "ftlab-" + module + ".jar";
    for (Path candidate :
        List.of(home.resolve(module).resolve("target").resolve(jar), home.resolve(jar))) {
      if (Files.isRegularFile(candidate)) {
        return candidate.toAbsolutePath().normalize();
      }
    }
    throw new IllegalStateException(
        "cannot find "
            + jar
            + " under "
            + home.toAbsolutePath().normalize()
            + ": build it first with './mvnw -DskipTests package' in the ftlab checkout,"
            + " or point FTLAB_HOME at the folder that holds it");
  }
}
