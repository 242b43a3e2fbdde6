package io.flowsight.enrichment.identityfile;

/** A static identity file that cannot be used, with the line that is wrong. */
public final class StaticFileException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String file;
  private final int line;

  public StaticFileException(String file, int line, String problem) {
    super(file + ":" + line + ": " + problem);
    this.file = file;
    this.line = line;
  }

  public StaticFileException(String file, int line, String problem, Throwable cause) {
    super(file + ":" + line + ": " + problem, cause);
    this.file = file;
    this.line = line;
  }

  public String file() {
    return file;
  }

  /** The 1-based line of the problem (0 when the file could not be read at all). */
  public int line() {
    return line;
  }
}
