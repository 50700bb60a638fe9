package ftlab.client;

import java.time.Duration;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads durations the way people write them: 500ms, 30s, 2m, 1h (a bare number is seconds). */
public final class DurationConverter implements ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    String v = value.trim().toLowerCase();
    try {
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      }
      if (v.endsWith("s")) {
        return Duration.ofMillis(
            Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1000));
      }
      if (v.endsWith("m")) {
        return Duration.ofSeconds(
            Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 60));
      }
      if (v.endsWith("h")) {
        return Duration.ofSeconds(
            Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 3600));
      }
      return Duration.ofMillis(Math.round(Double.parseDouble(v) * 1000));
    } catch (NumberFormatException e) {
      throw new TypeConversionException(
          "'" + value + "' is not a duration; write e.g. 500ms, 30s, 2m or 1h");
    }
  }
}
