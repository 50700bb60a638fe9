package ftlab.proto;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Drainable;
import io.grpc.KnownLength;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

/** The raw marshaller reads and writes a message's bytes exactly, with no buffer of its own. */
class BadRequestsTest {
  /** As gRPC's message streams: they know how many bytes are left. */
  private static class Known extends ByteArrayInputStream implements KnownLength {
    Known(byte[] b) {
      super(b);
    }
  }

  @Test
  void aStreamThatKnowsItsLengthIsReadIntoOneArrayOfThatLength() {
    byte[] message = "a request".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    assertThat(BadRequests.RAW.parse(new Known(message))).isEqualTo(message);
    assertThat(BadRequests.RAW.parse(new Known(new byte[0]))).isEmpty();
    byte[] big = new byte[100_000];
    new java.util.Random(1).nextBytes(big);
    assertThat(BadRequests.RAW.parse(new Known(big))).isEqualTo(big);
  }

  @Test
  void aStreamThatSaysTooLittleStillGivesEveryByte() {
    byte[] message = new byte[5_000];
    new java.util.Random(2).nextBytes(message);
    InputStream understated =
        new Known(message) {
          @Override
          public synchronized int available() {
            return Math.min(super.available(), 10);
          }
        };
    assertThat(BadRequests.RAW.parse(understated)).isEqualTo(message);
    assertThat(BadRequests.RAW.parse(new ByteArrayInputStream(message))).isEqualTo(message);
  }

  @Test
  void aResponseIsWrittenOutWhole() throws Exception {
    byte[] message = new byte[20_000];
    new java.util.Random(3).nextBytes(message);
    InputStream stream = BadRequests.RAW.stream(message);
    assertThat(stream).isInstanceOf(Drainable.class).isInstanceOf(KnownLength.class);
    assertThat(stream.available()).isEqualTo(message.length);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(((Drainable) stream).drainTo(out)).isEqualTo(message.length);
    assertThat(out.toByteArray()).isEqualTo(message);
    assertThat(stream.available()).isZero();
    assertThat(stream.read()).isEqualTo(-1);
  }
}
