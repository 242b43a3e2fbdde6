package io.flowsight.it;

import java.nio.file.Files;
import java.nio.file.Path;

/** Files of the repository the tests run in. */
final class Repository {

  private Repository() {}

  /** {@code relative} in the nearest directory above the working directory that has it. */
  static Path file(String relative) {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.exists(d.resolve(relative))) {
        return d.resolve(relative);
      }
    }
    throw new IllegalStateException(relative + " not found above " + Path.of("").toAbsolutePath());
  }
}
