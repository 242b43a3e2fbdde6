package io.flowsight.druid;

/**
 * What went wrong talking to Druid, said for the person who runs the command: the URL and what to
 * start when Druid does not answer, Druid's own message (its {@code errorMessage}) when it refuses
 * a request, the known names for an unknown query.
 */
public class DruidException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** The HTTP status Druid answered with, 0 when there was no answer. */
  private final int status;

  public DruidException(String message) {
    this(message, 0, null);
  }

  public DruidException(String message, int status, Throwable cause) {
    super(message, cause);
    this.status = status;
  }

  /** The HTTP status of Druid's answer, 0 when Druid did not answer. */
  public int status() {
    return status;
  }
}
