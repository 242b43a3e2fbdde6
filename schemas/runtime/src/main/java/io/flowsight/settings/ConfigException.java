package io.flowsight.settings;

/** A configuration value is missing or wrong; the message names the setting and the fix. */
public final class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
