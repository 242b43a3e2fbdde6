package io.flowsight.enrichment.source;

/** An identity source cannot go on: a broker, registry or API server failed, or bad input. */
public final class IdentitySourceException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public IdentitySourceException(String message) {
    super(message);
  }

  public IdentitySourceException(String message, Throwable cause) {
    super(message, cause);
  }
}
