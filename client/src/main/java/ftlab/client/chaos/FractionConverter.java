package ftlab.client.chaos;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads a fraction of tasks as people write it: 30% or 0.3. More than 0, at most 100%. */
public final class FractionConverter implements ITypeConverter<Double> {
  @Override
  public Double convert(String value) {
    String v = value.strip();
    double fraction;
    try {
      fraction =
          v.endsWith("%")
              ? Double.parseDouble(v.substring(0, v.length() - 1).strip()) / 100
              : Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw new TypeConversionException(
          "'" + value + "' is not a fraction of tasks; write e.g. 30% or 0.3");
    }
    if (!(fraction > 0 && fraction <= 1)) {
      throw new TypeConversionException(
          "a fraction of tasks must be more than 0 and at most 100%, got " + value);
    }
    return fraction;
  }
}
