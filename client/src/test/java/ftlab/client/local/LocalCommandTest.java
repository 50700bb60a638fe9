package ftlab.client.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The 'next:' lines of 'ftlab local up' name the command as the user types it. */
class LocalCommandTest {
  @Test
  void theCommandIsNamedAsTheUserTypesIt() {
    Path checkout = Path.of("/home/me/ftlab-checkout");
    assertThat(LocalCommand.invokedAs(checkout.toString(), checkout)).isEqualTo("./ftlab");
    assertThat(LocalCommand.invokedAs(checkout.toString(), Path.of("/tmp")))
        .isEqualTo("/home/me/ftlab-checkout/ftlab");
    assertThat(LocalCommand.invokedAs(null, checkout))
        .as("installed on the PATH")
        .isEqualTo("ftlab");
  }
}
