package io.flowsight.sidecar.sink;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.flowsight.schemas.FlowRecord;
import io.flowsight.schemas.FlowRecordHeaders;
import io.flowsight.schemas.serde.AvroDeserializer;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.sidecar.bench.QueuedRecordFootprint;
import io.flowsight.sidecar.metrics.SidecarMetrics;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The schema registry is away when the sidecar starts sending: the records wait and go out, in
 * order and complete, once it answers. The registry is the real one, reached through a relay this
 * test switches off (HTTP 503) and on.
 */
@ExtendWith(LocalStackExtension.class)
class RegistryOutageIT {

  private static final int RECORDS = 200;

  @Test
  void shouldHoldRecordsWhileTheRegistryIsDownAndSendThemAllWhenItAnswers(LocalStack stack)
      throws Exception {
    String topic = stack.createTopic("flows-raw-v1-registry-outage", 1);
    AtomicBoolean registryUp = new AtomicBoolean(false);
    HttpServer relay = relay(stack.registryUrl(), registryUp);
    String relayUrl =
        "http://127.0.0.1:"
            + relay.getAddress().getPort()
            + URI.create(stack.registryUrl()).getPath();
    SidecarMetrics metrics = new SidecarMetrics();
    KafkaSink sink = new KafkaSink(stack.bootstrapServers(), relayUrl, topic, 1000, metrics);
    try {
      long base = System.currentTimeMillis() - 60_000;
      for (int i = 0; i < RECORDS; i++) {
        FlowRecord r = QueuedRecordFootprint.record(i, "registry-outage", "run-1", null, base + i);
        r.setLocalIp(ByteBuffer.wrap(new byte[] {10, 9, 0, 1}));
        sink.accept(r);
      }
      awaitMetric(metrics, "flowsight_sidecar_output_retries_total", 2);
      assertThat(metrics.value("flowsight_sidecar_records_produced_total")).isZero();

      registryUp.set(true);
      awaitMetric(metrics, "flowsight_sidecar_records_produced_total", RECORDS);

      List<ConsumerRecord<String, FlowRecord>> read = readAll(stack, topic, RECORDS);
      assertThat(read)
          .extracting(r -> r.value().getSequence())
          .containsExactlyElementsOf(
              java.util.stream.LongStream.range(0, RECORDS).boxed().toList());
      for (ConsumerRecord<String, FlowRecord> r : read) {
        assertThat(r.timestamp()).isEqualTo(r.value().getEndTime().toEpochMilli());
        assertThat(r.headers().lastHeader(FlowRecordHeaders.PRODUCED_AT)).isNotNull();
      }
      assertThat(metrics.value("flowsight_sidecar_output_dropped_total")).isZero();
      assertThat(metrics.value("flowsight_sidecar_producer_errors_total")).isZero();
      assertThat(metrics.value("flowsight_sidecar_output_retries_total", "cause", "registry"))
          .isGreaterThanOrEqualTo(2);
    } finally {
      sink.close();
      relay.stop(0);
    }
  }

  /** Forwards to the registry while {@code up}; answers 503 otherwise. */
  private static HttpServer relay(String registryUrl, AtomicBoolean up) throws Exception {
    URI target = URI.create(registryUrl);
    String origin = target.getScheme() + "://" + target.getAuthority();
    HttpClient http = HttpClient.newHttpClient();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/",
        exchange -> {
          try (exchange) {
            if (!up.get()) {
              exchange.sendResponseHeaders(503, -1);
              return;
            }
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
              body = in.readAllBytes();
            }
            HttpRequest.Builder request =
                HttpRequest.newBuilder(URI.create(origin + exchange.getRequestURI()))
                    .method(
                        exchange.getRequestMethod(),
                        body.length == 0
                            ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(body));
            String type = exchange.getRequestHeaders().getFirst("Content-Type");
            if (type != null) {
              request.header("Content-Type", type);
            }
            HttpResponse<byte[]> response =
                http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            response
                .headers()
                .firstValue("Content-Type")
                .ifPresent(v -> exchange.getResponseHeaders().set("Content-Type", v));
            exchange.sendResponseHeaders(
                response.statusCode(), response.body().length == 0 ? -1 : response.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
              out.write(response.body());
            }
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    server.start();
    return server;
  }

  private static void awaitMetric(SidecarMetrics metrics, String name, double atLeast)
      throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (metrics.value(name) < atLeast) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(name + " stayed at " + metrics.value(name) + " < " + atLeast);
      }
      Thread.sleep(50);
    }
  }

  private static List<ConsumerRecord<String, FlowRecord>> readAll(
      LocalStack stack, String topic, int expected) {
    Map<String, Object> config = new java.util.HashMap<>(stack.consumerConfig());
    AvroDeserializer<FlowRecord> values =
        new AvroDeserializer<>(
            new SchemaRegistryClient(RegistrySerdeConfig.of(stack.registryUrl())),
            FlowRecord.class);
    List<ConsumerRecord<String, FlowRecord>> read = new ArrayList<>();
    try (KafkaConsumer<String, FlowRecord> consumer =
        new KafkaConsumer<>(config, new StringDeserializer(), values)) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (read.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(500)).forEach(read::add);
      }
    }
    return read;
  }
}
