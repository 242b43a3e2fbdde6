package io.flowsight.ops;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import javax.net.ssl.SSLContext;

/**
 * How the operations endpoint guards itself: TLS (the service's own key and certificate) and HTTP
 * basic authentication, each optional. {@link #NONE} (plain HTTP, open) is the default: the
 * endpoint listens on 127.0.0.1 unless told otherwise.
 *
 * @param tls the server's TLS context, or null for plain HTTP
 * @param username the one user basic authentication admits, or null for none
 * @param password that user's password (null without a user)
 * @param healthToo whether {@code /health} asks for the credentials too; by default only {@code
 *     /metrics} does, since probes (the kubelet's, a load balancer's) carry no secrets
 */
public record OpsSecurity(SSLContext tls, String username, String password, boolean healthToo) {

  public static final OpsSecurity NONE = new OpsSecurity(null, null, null, false);

  public boolean authenticated() {
    return username != null;
  }

  /** The scheme the endpoint speaks: {@code https} with TLS, else {@code http}. */
  public String scheme() {
    return tls != null ? "https" : "http";
  }

  /** Whether the pair is the configured user's; compared in constant time. */
  public boolean admits(String user, String pass) {
    return username != null
        && MessageDigest.isEqual(
            username.getBytes(StandardCharsets.UTF_8), user.getBytes(StandardCharsets.UTF_8))
        && MessageDigest.isEqual(
            password.getBytes(StandardCharsets.UTF_8), pass.getBytes(StandardCharsets.UTF_8));
  }

  /** No secret in logs or {@code --print-config}. */
  @Override
  public String toString() {
    return "OpsSecurity[" + scheme() + (authenticated() ? ", basic auth as " + username : "") + "]";
  }
}
