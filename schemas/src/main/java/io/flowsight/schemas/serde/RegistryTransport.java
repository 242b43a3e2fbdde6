package io.flowsight.schemas.serde;

import io.flowsight.schemas.serde.SerdeException.Reason;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * How the registry client authenticates and whom it trusts, read from the keys Confluent's clients
 * use, so that an existing client configuration works unchanged: {@value #CREDENTIALS_SOURCE}
 * {@code USER_INFO} with {@value #USER_INFO} {@code user:password} (HTTP basic authentication),
 * {@value #BEARER_SOURCE} {@code STATIC_TOKEN} with {@value #BEARER_TOKEN}, and {@value
 * #TRUSTSTORE_LOCATION} / {@value #TRUSTSTORE_TYPE} (PEM, PKCS12, JKS) / {@value
 * #TRUSTSTORE_PASSWORD} for a registry behind TLS with a private CA.
 *
 * @param authorization the value of the Authorization header of every request; null for none
 * @param sslContext the TLS context of https connections; null for the JVM's default trust
 */
public record RegistryTransport(String authorization, SSLContext sslContext) {

  public static final String CREDENTIALS_SOURCE = "basic.auth.credentials.source";
  public static final String USER_INFO = "basic.auth.user.info";
  public static final String BEARER_SOURCE = "bearer.auth.credentials.source";
  public static final String BEARER_TOKEN = "bearer.auth.token";
  public static final String TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
  public static final String TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";
  public static final String TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";

  /** Plain: no authentication, the JVM's default trust. */
  public static final RegistryTransport NONE = new RegistryTransport(null, null);

  /** Never the credentials, which would otherwise end up in logs. */
  @Override
  public String toString() {
    return "RegistryTransport[authorization="
        + (authorization == null ? "none" : authorization.split(" ", 2)[0] + " <secret>")
        + ", tls="
        + (sslContext == null ? "default trust" : "own truststore")
        + "]";
  }

  /** Reads the transport from a client configuration map (keys above; all optional). */
  public static RegistryTransport fromMap(Map<String, ?> configs) {
    String authorization = null;
    String source = text(configs.get(CREDENTIALS_SOURCE));
    String userInfo = text(configs.get(USER_INFO));
    if (userInfo != null) {
      if (source != null && !source.equalsIgnoreCase("USER_INFO")) {
        throw bad(CREDENTIALS_SOURCE + "=" + source + " is not supported: use USER_INFO");
      }
      if (!userInfo.contains(":")) {
        throw bad(USER_INFO + " must be user:password");
      }
      authorization =
          "Basic " + Base64.getEncoder().encodeToString(userInfo.getBytes(StandardCharsets.UTF_8));
    }
    String token = text(configs.get(BEARER_TOKEN));
    if (token != null) {
      String bearerSource = text(configs.get(BEARER_SOURCE));
      if (bearerSource != null && !bearerSource.equalsIgnoreCase("STATIC_TOKEN")) {
        throw bad(BEARER_SOURCE + "=" + bearerSource + " is not supported: use STATIC_TOKEN");
      }
      if (authorization != null) {
        throw bad("set either " + USER_INFO + " or " + BEARER_TOKEN + ", not both");
      }
      authorization = "Bearer " + token;
    }
    String location = text(configs.get(TRUSTSTORE_LOCATION));
    SSLContext ssl =
        location == null
            ? null
            : sslContext(
                Path.of(location),
                text(configs.get(TRUSTSTORE_TYPE)),
                text(configs.get(TRUSTSTORE_PASSWORD)));
    return new RegistryTransport(authorization, ssl);
  }

  /** A TLS context trusting exactly the certificates of the truststore. */
  static SSLContext sslContext(Path location, String type, String password) {
    String storeType = type == null ? "PKCS12" : type.toUpperCase(Locale.ROOT);
    try (InputStream in = Files.newInputStream(location)) {
      KeyStore trust;
      if (storeType.equals("PEM")) {
        trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        int n = 0;
        for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
          trust.setCertificateEntry("ca-" + n++, c);
        }
        if (n == 0) {
          throw bad(TRUSTSTORE_LOCATION + "=" + location + " holds no PEM certificate");
        }
      } else {
        trust = KeyStore.getInstance(storeType);
        trust.load(in, password == null ? null : password.toCharArray());
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(null, tmf.getTrustManagers(), null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new SerdeException(
          Reason.BAD_CONFIGURATION,
          "schema registry serde: cannot read the truststore "
              + TRUSTSTORE_LOCATION
              + "="
              + location
              + " as "
              + storeType
              + " ("
              + e.getMessage()
              + "): check its path, "
              + TRUSTSTORE_TYPE
              + " and "
              + TRUSTSTORE_PASSWORD,
          e);
    }
  }

  private static String text(Object value) {
    return value == null || value.toString().isBlank() ? null : value.toString().trim();
  }

  private static SerdeException bad(String problem) {
    return new SerdeException(Reason.BAD_CONFIGURATION, "schema registry serde: " + problem);
  }
}
