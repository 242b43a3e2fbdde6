package io.flowsight.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** A real Druid cluster, reached through its router (SQL and the overlord's supervisor API). */
final class Druid {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final String routerUrl;
  private final HttpClient http = HttpClient.newHttpClient();

  Druid(String routerUrl) {
    this.routerUrl = routerUrl;
  }

  /** The router of the test stack ({@code ./flowsight test} sets FLOWSIGHT_TEST_DRUID_URL). */
  static Druid fromEnvironment() {
    String url = System.getenv("FLOWSIGHT_TEST_DRUID_URL");
    return url == null ? null : new Druid(url);
  }

  boolean healthy() {
    try {
      return send(HttpRequest.newBuilder(URI.create(routerUrl + "/status/health")).build())
          .body()
          .contains("true");
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Submits the project's supervisor spec (deploy/druid/flows-supervisor.json) for another
   * datasource, topic and broker.
   */
  void submitSupervisor(Path spec, String dataSource, String topic, String bootstrapServers)
      throws IOException {
    ObjectNode root = (ObjectNode) JSON.readTree(Files.readString(spec));
    ObjectNode dataSchema = (ObjectNode) root.path("spec").path("dataSchema");
    dataSchema.put("dataSource", dataSource);
    ObjectNode io = (ObjectNode) root.path("spec").path("ioConfig");
    io.put("topic", topic);
    ((ObjectNode) io.path("consumerProperties")).put("bootstrap.servers", bootstrapServers);
    HttpResponse<String> response =
        send(
            HttpRequest.newBuilder(URI.create(routerUrl + "/druid/indexer/v1/supervisor"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(root.toString()))
                .build());
    if (response.statusCode() != 200) {
      throw new IOException(
          "supervisor refused: HTTP " + response.statusCode() + " " + response.body());
    }
  }

  /** Stops the supervisor of a datasource and its tasks. */
  void terminateSupervisor(String dataSource) throws IOException {
    send(
        HttpRequest.newBuilder(
                URI.create(routerUrl + "/druid/indexer/v1/supervisor/" + dataSource + "/terminate"))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build());
  }

  /** Runs Druid SQL; the rows as a JSON array of objects. */
  JsonNode sql(String query) throws IOException {
    ObjectNode body = JSON.createObjectNode().put("query", query).put("resultFormat", "object");
    HttpResponse<String> response =
        send(
            HttpRequest.newBuilder(URI.create(routerUrl + "/druid/v2/sql"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build());
    if (response.statusCode() != 200) {
      throw new IOException("SQL failed: HTTP " + response.statusCode() + " " + response.body());
    }
    return JSON.readTree(response.body());
  }

  private HttpResponse<String> send(HttpRequest request) throws IOException {
    try {
      return http.send(
          HttpRequest.newBuilder(request, (name, value) -> true)
              .timeout(Duration.ofSeconds(30))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
  }
}
