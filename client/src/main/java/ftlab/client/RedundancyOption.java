package ftlab.client;

import ftlab.proto.Redundancy;
import ftlab.proto.RedundancyWords;

/**
 * Reads the {@code --mode} and {@code --replicas} options of {@code ftlab watch} and {@code ftlab
 * mode}.
 */
public final class RedundancyOption {
  private RedundancyOption() {}

  /**
   * @param replicas for parallel and vote; 0 = the coordinator's own count
   * @throws IllegalArgumentException naming the bad value and the choices
   */
  public static Redundancy parse(String mode, int replicas) {
    if (replicas < 0 || replicas > 9) {
      throw new IllegalArgumentException("replicas must be between 0 and 9, got " + replicas);
    }
    return Redundancy.newBuilder()
        .setMode(RedundancyWords.mode(mode))
        .setReplicas(replicas)
        .build();
  }
}
