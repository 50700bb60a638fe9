package ftlab.client.it;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Headless Chromium (Debian's {@code chromium} and {@code chromium-driver}, installed by {@code
 * .ci/run}) driven by Selenium, with nothing downloaded: the browser and its driver are the
 * machine's. In CI a missing browser fails the test; elsewhere it skips it.
 */
final class RealBrowser {
  private RealBrowser() {}

  private static Path find(String env, String... candidates) {
    String given = System.getenv(env);
    if (given != null && !given.isBlank()) {
      return Path.of(given);
    }
    for (String c : candidates) {
      if (Files.isExecutable(Path.of(c))) {
        return Path.of(c);
      }
    }
    String why =
        "no "
            + candidates[0]
            + " (Debian: apt-get install chromium chromium-driver; or set "
            + env
            + ")";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail(why + ", and in CI the browser test must run");
    }
    Assumptions.abort(why);
    return null;
  }

  /** A headless Chromium with a 1280x720 window (a workshop projector). */
  static ChromeDriver start(Path profile) {
    Path chromium = find("FTLAB_CHROMIUM", "/usr/bin/chromium", "/usr/bin/chromium-browser");
    Path driver = find("FTLAB_CHROMEDRIVER", "/usr/bin/chromedriver");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(chromium.toFile());
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1280,720",
        "--no-first-run",
        // this machine's network is closed: no background connections to Google's hosts
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--user-data-dir=" + profile.toAbsolutePath());
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(driver.toFile())
            .usingAnyFreePort()
            .withTimeout(Duration.ofSeconds(30))
            .build();
    return new ChromeDriver(service, options);
  }

  /** Saves what the browser shows to {@code target/NAME.png}, and returns where. */
  static Path screenshot(ChromeDriver browser, String name) throws IOException {
    File shot = browser.getScreenshotAs(OutputType.FILE);
    Path to = Path.of("target", name + ".png").toAbsolutePath();
    Files.createDirectories(to.getParent());
    Files.copy(shot.toPath(), to, StandardCopyOption.REPLACE_EXISTING);
    return to;
  }
}
