package ftlab.containers;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;

/**
 * The image under test: the repository's own {@code Dockerfile}, built once per test run, the same
 * file users build with {@code docker compose up --build}.
 *
 * <ul>
 *   <li>{@code FTLAB_BUILD_IMAGE} / {@code FTLAB_RUNTIME_IMAGE}: the base images, as for compose
 *       (CI passes the local ones made by {@code docker/make-base-images.sh}; unset, the
 *       Dockerfile's public defaults are used).
 *   <li>{@code FTLAB_TEST_IMAGE}: use this already built image instead of building one (to rerun
 *       the tests quickly after {@code docker compose build}; it must match the code under test).
 * </ul>
 *
 * <p>Docker's layer cache makes the build after the first one cheap as long as the sources do not
 * change; the image is tagged {@value #TAG} and labelled by Testcontainers, so {@code .ci/run} can
 * prune it.
 */
final class LabImage {
  static final String TAG = "ftlab-test:latest";

  private static Future<String> image;

  private LabImage() {}

  /**
   * The image's name, building it on first use. Fails (in CI) or skips (elsewhere) without Docker.
   */
  static synchronized Future<String> get() {
    requireDocker();
    if (image == null) {
      String given = System.getenv("FTLAB_TEST_IMAGE");
      if (given != null && !given.isBlank()) {
        image = CompletableFuture.completedFuture(given);
      } else {
        image = build();
      }
    }
    return image;
  }

  private static Future<String> build() {
    Path home = Path.of(System.getProperty("ftlab.home", "..")).toAbsolutePath().normalize();
    Path dockerfile = home.resolve("Dockerfile");
    if (!Files.isRegularFile(dockerfile)) {
      throw new IllegalStateException("no Dockerfile at " + dockerfile + " (set -Dftlab.home)");
    }
    // withDockerfile: the Dockerfile's folder is the build context, filtered by .dockerignore
    ImageFromDockerfile build = new ImageFromDockerfile(TAG, false).withDockerfile(dockerfile);
    String buildImage = System.getenv("FTLAB_BUILD_IMAGE");
    String runtimeImage = System.getenv("FTLAB_RUNTIME_IMAGE");
    if (buildImage != null && !buildImage.isBlank()) {
      build.withBuildArg("BUILD_IMAGE", buildImage);
    }
    if (runtimeImage != null && !runtimeImage.isBlank()) {
      build.withBuildArg("RUNTIME_IMAGE", runtimeImage);
    }
    return build;
  }

  /**
   * These tests are the proof that the lab works in Docker, so in CI ({@code CI=true}) a missing
   * Docker fails the run; on a developer's machine without Docker they are skipped, with the
   * reason.
   */
  static void requireDocker() {
    if (DockerClientFactory.instance().isDockerAvailable()) {
      return;
    }
    String why =
        "no Docker engine answers (is dockerd running? DOCKER_HOST="
            + System.getenv("DOCKER_HOST")
            + "); the container tests need one";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail(why + ", and in CI they must run");
    }
    assumeTrue(false, why + ": skipped outside CI");
  }
}
