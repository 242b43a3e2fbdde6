package io.flowsight.collector;

import io.flowsight.collector.attribution.DeadLetter;
import io.flowsight.collector.config.CollectorConfig;
import io.flowsight.collector.config.CollectorOptions;
import io.flowsight.collector.metrics.CollectorMetrics;
import io.flowsight.ops.OpsServer;
import io.flowsight.schemas.serde.AvroLimits;
import io.flowsight.schemas.serde.RegistrySerdeConfig;
import io.flowsight.schemas.serde.SchemaRegistryClient;
import io.flowsight.schemas.serde.SerdeException;
import io.flowsight.settings.ConfigException;
import io.flowsight.settings.Settings;
import java.io.IOException;
import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * {@code ./flowsight collector [options]}: runs the collector until SIGTERM or SIGINT. Several
 * instances with the same {@code --application-id} share the partitions; state moves with them
 * through the changelog topics.
 */
public final class CollectorMain {

  private static final Logger log = LoggerFactory.getLogger(CollectorMain.class);

  /** Exit code for a bad configuration. */
  static final int EXIT_CONFIG = 2;

  /** Exit code for topics the collector cannot work with (or a broker it cannot reach). */
  static final int EXIT_TOPICS = 3;

  /** Exit code when Kafka Streams stopped in error. */
  static final int EXIT_FAILED = 1;

  private CollectorMain() {}

  public static void main(String[] args) {
    // Before any record is decoded: Avro reads its length limits once.
    AvroLimits.install();
    System.exit(run(args, System.getenv(), System.out, System.err));
  }

  static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    for (String arg : args) {
      if (arg.equals("-h") || arg.equals("--help")) {
        usage(out);
        return 0;
      }
    }
    if (Settings.printConfigRequested(args)) {
      try {
        out.print(CollectorOptions.describe(Settings.withoutPrintConfig(args), env));
        return 0;
      } catch (CommandLine.ParameterException | ConfigException e) {
        err.println("flowsight collector: " + e.getMessage());
        return EXIT_CONFIG;
      }
    }
    CollectorConfig config;
    try {
      config = CollectorOptions.parse(args, env).toConfig();
    } catch (CommandLine.ParameterException | ConfigException e) {
      err.println("flowsight collector: " + e.getMessage());
      err.println("Run ./flowsight collector --help for the options.");
      return EXIT_CONFIG;
    }

    SchemaRegistryClient registry;
    try {
      registry =
          new SchemaRegistryClient(
              RegistrySerdeConfig.of(config.registryUrl(), config.registryProperties()));
    } catch (SerdeException e) {
      err.println("flowsight collector: --registry-url: " + e.getMessage());
      return EXIT_CONFIG;
    }

    int partitions;
    Properties adminProps = new Properties();
    adminProps.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
    adminProps.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000);
    adminProps.putAll(CollectorRuntime.adminProperties(config));
    try (Admin admin = Admin.create(adminProps)) {
      partitions =
          new TopicSetup(admin, config.replicationFactor())
              .ensure(
                  config.flowsTopic(),
                  config.identityTopic(),
                  config.outputTopic(),
                  config.deadLetterTopic(),
                  config.partitions());
      String tooSmall = deadLetterTopicTooSmall(admin, config.deadLetterTopic());
      if (tooSmall != null) {
        err.println("flowsight collector: " + tooSmall);
        return EXIT_TOPICS;
      }
    } catch (TopicSetup.TopicException e) {
      Optional<String> refused = CollectorOptions.refusal(e);
      if (refused.isPresent()) {
        err.println("flowsight collector: " + refused.get());
        return EXIT_CONFIG;
      }
      err.println(
          "flowsight collector: "
              + e.getMessage()
              + " (broker --bootstrap-servers "
              + config.bootstrapServers()
              + ")");
      return EXIT_TOPICS;
    }

    CollectorMetrics metrics = new CollectorMetrics();
    Topics topics =
        Topics.withRegistry(
            registry,
            config.flowsTopic(),
            config.identityTopic(),
            config.outputTopic(),
            config.deadLetterTopic());
    CollectorSettings settings = config.settings(partitions);
    Topology topology = CollectorTopology.build(topics, settings, metrics);
    log.info(
        "collector {}: {} and {} ({} partitions) -> {}; window {}, grace {}, late horizon {},"
            + " hold-back {}",
        config.applicationId(),
        config.flowsTopic(),
        config.identityTopic(),
        partitions,
        config.outputTopic(),
        settings.window(),
        settings.grace(),
        settings.lateHorizon(),
        settings.holdBack());
    log.debug("topology:\n{}", topology.describe());

    Properties streamsProperties = CollectorRuntime.streamsProperties(config);
    streamsProperties.put(DeadLetterProductionExceptionHandler.METRICS, metrics);
    KafkaStreams streams = new KafkaStreams(topology, streamsProperties);
    CollectorHealth health = new CollectorHealth();
    CollectorRuntime.handleThreadFailures(streams, health, metrics);
    CollectorRuntime.bridgeMetrics(streams, metrics);
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicInteger exit = new AtomicInteger(0);
    streams.setStateListener(
        (now, before) -> {
          log.info("state {} -> {}", before, now);
          if (now == KafkaStreams.State.ERROR) {
            exit.set(EXIT_FAILED);
            stopped.countDown();
          }
        });

    OpsServer ops = null;
    if (config.metricsPort() != 0) {
      try {
        ops =
            new OpsServer(
                config.metricsHost(),
                config.metricsPort(),
                metrics.registry(),
                () -> CollectorRuntime.health(streams, health, metrics),
                config.opsSecurity());
      } catch (IOException e) {
        err.println(
            "flowsight collector: cannot open the metrics endpoint on "
                + config.metricsHost()
                + ":"
                + config.metricsPort()
                + " ("
                + e.getMessage()
                + "): set --metrics-address to a free port, or port 0 to turn it off");
        streams.close();
        return EXIT_CONFIG;
      }
    }
    OpsServer opsServer = ops;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  streams.close(CollectorRuntime.CLOSE_TIMEOUT);
                  if (opsServer != null) {
                    opsServer.close();
                  }
                  stopped.countDown();
                },
                "flowsight-shutdown"));
    streams.start();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (exit.get() != 0) {
      err.println("flowsight collector: Kafka Streams stopped in error (see the log)");
      streams.close(CollectorRuntime.CLOSE_TIMEOUT);
    }
    return exit.get();
  }

  /**
   * A dead-letter topic whose {@code max.message.bytes} is below the largest dead letter would
   * refuse the largest poison, and under exactly-once abort the transaction it is in: refuse to
   * start, naming the setting. Null when the topic takes every dead letter (or cannot be read).
   */
  private static String deadLetterTopicTooSmall(Admin admin, String topic) {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    try {
      Config topicConfig =
          admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
      ConfigEntry entry = topicConfig == null ? null : topicConfig.get("max.message.bytes");
      if (entry == null || entry.value() == null) {
        return null;
      }
      long max = Long.parseLong(entry.value());
      if (max >= DeadLetter.MAX_ENVELOPE_BYTES) {
        return null;
      }
      return "the dead-letter topic "
          + topic
          + " takes messages of at most "
          + max
          + " bytes (max.message.bytes), but a dead letter can be "
          + DeadLetter.MAX_ENVELOPE_BYTES
          + ": raise it, e.g. kafka-configs --alter --entity-type topics --entity-name "
          + topic
          + " --add-config max.message.bytes=1048588";
    } catch (ExecutionException | java.util.concurrent.TimeoutException | NumberFormatException e) {
      log.warn("cannot read max.message.bytes of {}: {}", topic, e.toString());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private static void usage(PrintStream out) {
    CommandLine command = Settings.command(new CollectorOptions());
    command.getCommandSpec().name("./flowsight collector");
    command.getCommandSpec().usageMessage().abbreviateSynopsis(true);
    command
        .getCommandSpec()
        .usageMessage()
        .description(
            "Attributes both ends of every raw flow to workloads, counts a connection seen by"
                + " both ends once, and writes one JSON aggregate per (protocol, client IP,"
                + " server IP, service port, owners) and window to the output topic.",
            "Every option can also be set as an environment variable FLOWSIGHT_COLLECTOR_<NAME>"
                + " (--hold-back: FLOWSIGHT_COLLECTOR_HOLD_BACK) or as a key in the --config"
                + " properties file (hold-back=3m). --print-config prints each effective value and"
                + " where it came from.");
    command.usage(out);
  }
}
