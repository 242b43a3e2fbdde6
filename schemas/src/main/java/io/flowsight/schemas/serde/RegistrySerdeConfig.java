package io.flowsight.schemas.serde;

import io.flowsight.schemas.serde.SerdeException.Reason;
import java.net.URI;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of the registry serde. The keys are the ones Confluent's serializers use, so an existing
 * Kafka client configuration works unchanged.
 *
 * @param registryUrl base URL of a Confluent Schema Registry compatible API (Apicurio Registry:
 *     {@code http://host:port/apis/ccompat/v7}); key {@value #REGISTRY_URL}
 * @param autoRegister whether the serializer registers a schema the subject does not have yet
 *     (otherwise it fails with {@link Reason#SCHEMA_NOT_REGISTERED}); key {@value #AUTO_REGISTER},
 *     default true
 * @param requestTimeout timeout of one registry HTTP request; key {@value #REQUEST_TIMEOUT_MS} in
 *     milliseconds, default 10000
 * @param transport authentication and TLS trust ({@link RegistryTransport}); none by default
 */
public record RegistrySerdeConfig(
    URI registryUrl, boolean autoRegister, Duration requestTimeout, RegistryTransport transport) {

  public static final String REGISTRY_URL = "schema.registry.url";
  public static final String AUTO_REGISTER = "auto.register.schemas";
  public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";

  static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);

  public RegistrySerdeConfig {
    if (registryUrl == null) {
      throw badConfig(REGISTRY_URL + " is missing" + URL_HINT);
    }
    String scheme = registryUrl.getScheme();
    if (!"http".equals(scheme) && !"https".equals(scheme)) {
      throw badConfig(REGISTRY_URL + "=" + registryUrl + " is not an http(s) URL" + URL_HINT);
    }
    if (requestTimeout == null || requestTimeout.isNegative() || requestTimeout.isZero()) {
      throw badConfig(REQUEST_TIMEOUT_MS + " must be a positive number of milliseconds");
    }
    if (transport == null) {
      transport = RegistryTransport.NONE;
    }
  }

  public RegistrySerdeConfig(URI registryUrl, boolean autoRegister, Duration requestTimeout) {
    this(registryUrl, autoRegister, requestTimeout, RegistryTransport.NONE);
  }

  /** A configuration with auto-registration on and the default timeout. */
  public static RegistrySerdeConfig of(String registryUrl) {
    return new RegistrySerdeConfig(parseUrl(registryUrl), true, DEFAULT_REQUEST_TIMEOUT);
  }

  /**
   * A configuration with auto-registration on, the default timeout and the authentication and trust
   * of {@code transportConfigs} (the keys of {@link RegistryTransport}).
   */
  public static RegistrySerdeConfig of(String registryUrl, Map<String, ?> transportConfigs) {
    return new RegistrySerdeConfig(
        parseUrl(registryUrl),
        true,
        DEFAULT_REQUEST_TIMEOUT,
        RegistryTransport.fromMap(transportConfigs));
  }

  /** Reads the settings from a Kafka client configuration map. */
  public static RegistrySerdeConfig fromMap(Map<String, ?> configs) {
    Object url = configs.get(REGISTRY_URL);
    if (url == null || url.toString().isBlank()) {
      throw badConfig(REGISTRY_URL + " is missing" + URL_HINT);
    }
    boolean autoRegister = parseBoolean(configs.get(AUTO_REGISTER), AUTO_REGISTER, true);
    Duration timeout = DEFAULT_REQUEST_TIMEOUT;
    Object timeoutMs = configs.get(REQUEST_TIMEOUT_MS);
    if (timeoutMs != null) {
      try {
        timeout = Duration.ofMillis(Long.parseLong(timeoutMs.toString().trim()));
      } catch (NumberFormatException e) {
        throw badConfig(
            REQUEST_TIMEOUT_MS + "=" + timeoutMs + " is not a number of milliseconds (e.g. 10000)");
      }
    }
    return new RegistrySerdeConfig(
        parseUrl(url.toString().trim()), autoRegister, timeout, RegistryTransport.fromMap(configs));
  }

  private static URI parseUrl(String url) {
    try {
      URI uri = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
      if (uri.getHost() == null) {
        throw badConfig(REGISTRY_URL + "=" + url + " has no host" + URL_HINT);
      }
      return uri;
    } catch (IllegalArgumentException e) {
      throw badConfig(
          REGISTRY_URL + "=" + url + " is not a URL (" + e.getMessage() + ")" + URL_HINT);
    }
  }

  private static boolean parseBoolean(Object value, String key, boolean defaultValue) {
    if (value == null) {
      return defaultValue;
    }
    if (value instanceof Boolean b) {
      return b;
    }
    String text = value.toString().trim();
    if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
      return Boolean.parseBoolean(text);
    }
    throw badConfig(key + "=" + value + " is not true or false");
  }

  private static final String URL_HINT =
      ": set it to the Confluent-compatible API of the schema registry,"
          + " e.g. http://127.0.0.1:8081/apis/ccompat/v7 for the local Apicurio Registry";

  private static SerdeException badConfig(String problem) {
    return new SerdeException(Reason.BAD_CONFIGURATION, "schema registry serde: " + problem);
  }
}
