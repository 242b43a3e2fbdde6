package io.flowsight.druid;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The files the client works with, in the repository it is built in: the client sits in {@code
 * deploy/druid/client}, next to {@code deploy/druid/queries} and {@code
 * deploy/druid/flows-supervisor.json}, and finds them from where its classes are (the jar or {@code
 * target/classes}), or else from the working directory up.
 */
public final class DruidFiles {

  private DruidFiles() {}

  /** {@code deploy/druid/queries}. */
  public static Path queries() {
    return find("queries");
  }

  /** {@code deploy/druid/flows-supervisor.json}. */
  public static Path supervisorSpec() {
    return find("flows-supervisor.json");
  }

  /** The repository's {@code ./flowsight}, two directories above {@code deploy/druid}. */
  public static Path flowsightScript() {
    return queries().getParent().getParent().getParent().resolve("flowsight");
  }

  private static Path find(String name) {
    for (Path start : new Path[] {classesLocation(), Path.of("").toAbsolutePath()}) {
      for (Path d = start; d != null; d = d.getParent()) {
        for (Path candidate : new Path[] {d.resolve(name), d.resolve("deploy/druid/" + name)}) {
          if (Files.exists(candidate) && candidate.getParent().endsWith("druid")) {
            return candidate;
          }
        }
      }
    }
    return Path.of("deploy/druid", name).toAbsolutePath();
  }

  private static Path classesLocation() {
    try {
      return Path.of(DruidFiles.class.getProtectionDomain().getCodeSource().getLocation().toURI())
          .toAbsolutePath();
    } catch (URISyntaxException | RuntimeException e) {
      return Path.of("").toAbsolutePath();
    }
  }
}
