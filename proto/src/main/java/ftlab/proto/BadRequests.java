package ftlab.proto;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Drainable;
import io.grpc.ForwardingServerCallListener;
import io.grpc.KnownLength;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * How every ftlab server answers requests it cannot take as they are, the same way in every
 * process.
 *
 * <p>Requests that are not protobuf: grpc-java answers a request it cannot parse with {@code
 * UNKNOWN: Application error processing RPC} and logs a stack trace (grpc/grpc-java#6108: the parse
 * runs before any interceptor sees the message). {@link #guard} makes the service parse inside an
 * interceptor instead, so that such a request gets {@code INVALID_ARGUMENT} and a sentence naming
 * the message it should have been.
 *
 * <p>Text a caller sent, quoted back in a status description, is cut short ({@link #quote}): a
 * status travels in HTTP/2 trailers, which peers limit to 8 KiB, so a 100 KB id echoed in full
 * turns a clear refusal into {@code INTERNAL: http2 exception}.
 */
public final class BadRequests {
  private BadRequests() {}

  /** How much of a caller's text a description quotes. */
  static final int QUOTED = 60;

  /** The caller's text, in quotes, cut to 60 characters with its full length said. */
  public static String quote(String text) {
    if (text.length() <= QUOTED) {
      return "'" + text + "'";
    }
    return "'" + text.substring(0, QUOTED) + "...' (" + text.length() + " characters)";
  }

  /**
   * The service, answering requests that are not valid protobuf with {@code INVALID_ARGUMENT}
   * instead of gRPC's {@code UNKNOWN}.
   */
  public static ServerServiceDefinition guard(ServerServiceDefinition service) {
    return ServerInterceptors.intercept(
        ServerInterceptors.useMarshalledMessages(service, RAW), new ParseInside(service));
  }

  /**
   * A request or response as its bytes, unparsed: for the guard, and for tests that send garbage.
   */
  public static final MethodDescriptor.Marshaller<byte[]> RAW =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new KnownBytes(value);
        }

        /**
         * gRPC's message stream knows its length: one array of that size, not readAllBytes's 8
         * KB-and-more buffers for every request (the most of what a coordinator and a node
         * allocated per call, seen with JFR, and so of their collections).
         */
        @Override
        public byte[] parse(InputStream stream) {
          try {
            if (stream instanceof KnownLength) {
              byte[] bytes = new byte[stream.available()];
              int read = stream.readNBytes(bytes, 0, bytes.length);
              if (read == bytes.length && stream.available() == 0) {
                return bytes;
              }
              byte[] rest = stream.readAllBytes(); // not as long as it said: keep every byte
              byte[] all = java.util.Arrays.copyOf(bytes, read + rest.length);
              System.arraycopy(rest, 0, all, read, rest.length);
              return all;
            }
            return stream.readAllBytes();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      };

  /**
   * Sees each request as bytes, and the parse into the service's own type happen in the next
   * listener's {@code onMessage}: a parse failure is caught here and answered.
   */
  private static final class ParseInside implements ServerInterceptor {
    private final ServerServiceDefinition original;

    ParseInside(ServerServiceDefinition original) {
      this.original = original;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      ServerCall.Listener<Q> delegate = next.startCall(call, headers);
      String full = call.getMethodDescriptor().getFullMethodName();
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
        private boolean refused;

        @Override
        public void onMessage(Q message) {
          if (refused) {
            return;
          }
          try {
            super.onMessage(message);
          } catch (StatusRuntimeException e) {
            if (!(e.getStatus().getCause() instanceof InvalidProtocolBufferException bad)) {
              throw e;
            }
            refused = true;
            call.close(
                Status.INVALID_ARGUMENT.withDescription(
                    "the request is not a valid "
                        + requestType(full)
                        + " ("
                        + bad.getMessage()
                        + ")"),
                new Metadata());
          }
        }

        @Override
        public void onHalfClose() {
          if (!refused) { // the call is closed: a handler that ran now would close it again
            super.onHalfClose();
          }
        }
      };
    }

    /** E.g. ftlab.v1.SubmitRequest, from the service's own method descriptor. */
    private String requestType(String fullMethodName) {
      var method = original.getMethod(fullMethodName);
      if (method != null
          && method.getMethodDescriptor().getRequestMarshaller()
              instanceof MethodDescriptor.PrototypeMarshaller<?> p
          && p.getMessagePrototype() instanceof com.google.protobuf.Message m) {
        return m.getDescriptorForType().getFullName();
      }
      return "request for " + fullMethodName;
    }
  }

  /**
   * Bytes whose length gRPC can see ({@link KnownLength}): it then writes them out as they are,
   * rather than copying them into a buffer first to learn their length. Every answer of a guarded
   * service goes out through this.
   */
  private static final class KnownBytes extends ByteArrayInputStream
      implements KnownLength, Drainable {
    KnownBytes(byte[] bytes) {
      super(bytes);
    }

    /** Written out as it is: gRPC would otherwise copy it through a new 8 KB buffer. */
    @Override
    public synchronized int drainTo(OutputStream target) throws IOException {
      int n = count - pos;
      target.write(buf, pos, n);
      pos = count;
      return n;
    }
  }
}
