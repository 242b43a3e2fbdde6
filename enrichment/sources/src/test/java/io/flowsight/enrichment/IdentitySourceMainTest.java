package io.flowsight.enrichment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class IdentitySourceMainTest {

  @TempDir Path dir;

  private record Result(int status, String err) {}

  private static Result run(String... args) {
    return run(Map.of(), new StringWriter(), args);
  }

  private static Result run(Map<String, String> env, StringWriter out, String... args) {
    CommandLine cli = IdentitySourceMain.commandLine();
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err));
    cli.setOut(new PrintWriter(out));
    int status = IdentitySourceMain.run(cli, args, env);
    return new Result(status, err.toString().trim());
  }

  @Test
  void shouldTakeSettingsFromItsVariablesItsOldVariablesAndAConfigFile() throws Exception {
    Path config = Files.writeString(dir.resolve("identity.properties"), "poll-interval=5s\n");
    StringWriter out = new StringWriter();

    Result result =
        run(
            Map.of(
                "FLOWSIGHT_KAFKA_BOOTSTRAP", "kafka-1:9092",
                "FLOWSIGHT_IDENTITY_TOPIC", "ids"),
            out,
            "static",
            "--print-config",
            "--config",
            config.toString(),
            "--file",
            "/etc/flowsight/identities.yaml");

    assertThat(result.status()).isZero();
    assertThat(out.toString().lines())
        .anyMatch(
            l ->
                l.matches(
                    "--bootstrap-servers +kafka-1:9092  \\(environment"
                        + " FLOWSIGHT_IDENTITY_BOOTSTRAP_SERVERS\\)"))
        .anyMatch(l -> l.matches("--topic +ids  \\(environment FLOWSIGHT_IDENTITY_TOPIC\\)"))
        .anyMatch(l -> l.matches("--poll-interval +PT5S  \\(file .*, key poll-interval\\)"))
        .anyMatch(l -> l.matches("--file +/etc/flowsight/identities.yaml  \\(flag\\)"))
        .anyMatch(l -> l.matches("--read-back-timeout +PT2M  \\(default\\)"));
  }

  @Test
  void shouldGiveTheKubernetesSettingsAsTheCommandWouldRunWithThem() throws Exception {
    Path config =
        Files.writeString(dir.resolve("identity.properties"), "resync=5m\nservices=false\n");
    IdentitySourceMain.KubernetesSettings settings =
        IdentitySourceMain.kubernetesSettings(
            new String[] {"--config", config.toString(), "--no-nodes"},
            Map.of(
                "FLOWSIGHT_IDENTITY_CLUSTER", "prod",
                "FLOWSIGHT_IDENTITY_BOOTSTRAP_SERVERS", "kafka-1:9092,kafka-2:9092",
                "FLOWSIGHT_IDENTITY_REGISTRY_URL", "http://registry:8081/apis/ccompat/v7",
                // The environment wins over the file.
                "FLOWSIGHT_IDENTITY_RESYNC", "1m"));

    assertThat(settings.source().cluster()).isEqualTo("prod");
    assertThat(settings.source().resync()).isEqualTo(Duration.ofMinutes(1));
    assertThat(settings.source().services()).isFalse();
    assertThat(settings.source().nodes()).isFalse();
    assertThat(settings.source().kubeconfig()).isNull();
    assertThat(settings.source().startTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(settings.publisher().bootstrapServers()).isEqualTo("kafka-1:9092,kafka-2:9092");
    assertThat(settings.publisher().topic()).isEqualTo("ip-identity-v1");

    // A bad value fails as the command would, naming the option.
    assertThatThrownBy(
            () ->
                IdentitySourceMain.kubernetesSettings(
                    new String[0],
                    Map.of(
                        "FLOWSIGHT_IDENTITY_BOOTSTRAP_SERVERS",
                        "kafka-1:9092",
                        "FLOWSIGHT_IDENTITY_REGISTRY_URL",
                        "http://registry:8081/apis/ccompat/v7")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--cluster is missing");
  }

  @Test
  void shouldGiveTheProducerAndTheReadBackConsumerTheKafkaSecurity() throws Exception {
    Path password = Files.writeString(dir.resolve("kafka-password"), "pw\n");
    IdentitySourceMain.KubernetesSettings settings =
        IdentitySourceMain.kubernetesSettings(
            new String[] {
              "--kafka-security-protocol=SASL_PLAINTEXT",
              "--kafka-sasl-username=identity",
              "--kafka-sasl-password-file=" + password
            },
            Map.of(
                "FLOWSIGHT_IDENTITY_CLUSTER", "prod",
                "FLOWSIGHT_IDENTITY_BOOTSTRAP_SERVERS", "kafka-1:9092",
                "FLOWSIGHT_IDENTITY_REGISTRY_URL", "http://registry:8081/apis/ccompat/v7"));

    assertThat(settings.publisher().producerOverrides())
        .containsOnly(
            Map.entry("security.protocol", "SASL_PLAINTEXT"),
            Map.entry("sasl.mechanism", "SCRAM-SHA-512"),
            Map.entry(
                "sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required"
                    + " username=\"identity\" password=\"pw\";"));
  }

  @Test
  void shouldNameAMissingKafkaPasswordAndExitWithTwo() throws Exception {
    Path file = Files.writeString(dir.resolve("ids.yaml"), "identities: []\n");

    Result result =
        run(
            "static",
            "--file",
            file.toString(),
            "--bootstrap-servers",
            "127.0.0.1:9092",
            "--registry-url",
            "http://127.0.0.1:8081/apis/ccompat/v7",
            "--kafka-security-protocol=SASL_SSL",
            "--kafka-sasl-username=identity");

    assertThat(result.status()).isEqualTo(2);
    assertThat(result.err())
        .contains("--kafka-sasl-password-file")
        .contains("FLOWSIGHT_IDENTITY_KAFKA_SASL_PASSWORD");
  }

  @Test
  void shouldRefuseAConfigFileKeyThatIsNoOption() throws Exception {
    Path config = Files.writeString(dir.resolve("identity.properties"), "bootstrap=kafka:9092\n");

    Result result = run("static", "--config", config.toString());

    assertThat(result.status()).isEqualTo(2);
    assertThat(result.err())
        .startsWith("flowsight identity: unknown key 'bootstrap' in --config " + config);
  }

  @Test
  void shouldNameTheBadOptionAndExitWithTwo() throws Exception {
    Path file = Files.writeString(dir.resolve("ids.yaml"), "identities: []\n");

    assertThat(run("static", "--file", dir.resolve("missing.yaml").toString()))
        .isEqualTo(
            new Result(
                2,
                "flowsight identity static: --file: "
                    + dir.resolve("missing.yaml")
                    + " does not exist or is not a file"));
    assertThat(
            run(
                "static",
                "--file",
                file.toString(),
                "--bootstrap-servers",
                "127.0.0.1",
                "--registry-url",
                "http://127.0.0.1:8081/apis/ccompat/v7"))
        .isEqualTo(
            new Result(
                2, "flowsight identity static: --bootstrap-servers: '127.0.0.1' is not host:port"));
    assertThat(
            run(
                "static",
                "--file",
                file.toString(),
                "--bootstrap-servers",
                "127.0.0.1:9092",
                "--registry-url",
                "ftp://registry",
                "--topic",
                "ids"))
        .extracting(
            Result::status, r -> r.err().startsWith("flowsight identity static: --registry-url: "))
        .containsExactly(2, true);
    assertThat(
            run(
                "static",
                "--file",
                file.toString(),
                "--bootstrap-servers",
                "127.0.0.1:9092",
                "--registry-url",
                "http://127.0.0.1:8081/apis/ccompat/v7",
                "--topic",
                "bad topic"))
        .isEqualTo(
            new Result(
                2,
                "flowsight identity static: --topic: 'bad topic' is not a Kafka topic name"
                    + " (letters, digits, . _ -)"));
    assertThat(
            run(
                "kubernetes",
                "--cluster",
                " ",
                "--bootstrap-servers",
                "127.0.0.1:9092",
                "--registry-url",
                "http://127.0.0.1:8081/apis/ccompat/v7"))
        .extracting(Result::status, Result::err)
        .containsExactly(
            2,
            "flowsight identity kubernetes: --cluster is missing (or set FLOWSIGHT_IDENTITY_CLUSTER): name the"
                + " cluster, e.g. prod-east; it is every identity's cluster and the events'"
                + " sourceInstance");
    assertThat(run("kubernetes", "--resync", "ten minutes").status()).isEqualTo(2);
    assertThat(run().status()).isEqualTo(2);
  }

  @Test
  void shouldNameTheLineOfABadFileAndExitWithTwo() throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("ids.yaml"),
            "identities:\n  - ip: 10.0.0.1\n    app: a\n    colour: red\n");

    Result result =
        run(
            "static",
            "--file",
            file.toString(),
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--registry-url",
            "http://127.0.0.1:1/apis/ccompat/v7",
            "--once");

    // The file is checked before anything else: no broker is needed to hear about it.
    assertThat(result)
        .isEqualTo(
            new Result(
                2,
                "flowsight identity static: "
                    + file
                    + ":4: unknown field 'colour' (an entry has: ip or cidr, app, cluster,"
                    + " namespace, workloadKind, workloadName, instanceId, node, zone, region,"
                    + " account, labels)"));
  }

  @Test
  void shouldGiveUpTheReadBackAfterItsTimeoutNamingTheOption() throws Exception {
    Path file = Files.writeString(dir.resolve("ids.yaml"), "identities: []\n");
    String[] args = {
      "static",
      "--file",
      file.toString(),
      "--bootstrap-servers",
      "127.0.0.1:1",
      "--registry-url",
      "http://127.0.0.1:1/apis/ccompat/v7",
      "--topic",
      "ids",
      "--once",
      "--read-back-timeout",
      "500ms"
    };

    long started = System.nanoTime();
    Result result = run(args);

    // Nothing listens on port 1: the read-back cannot even list the topics.
    assertThat(result.status()).isEqualTo(1);
    assertThat(result.err())
        .isEqualTo(
            "flowsight identity static failed: reading back what static "
                + io.flowsight.enrichment.source.statics.StaticIdentitySource.instanceOf(file)
                + " published to ids did not finish within --read-back-timeout PT0.5S (before"
                + " the topic's partitions and end offsets were known): check the broker at"
                + " 127.0.0.1:1, or raise --read-back-timeout (env"
                + " FLOWSIGHT_IDENTITY_READ_BACK_TIMEOUT)");
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(20));

    args[args.length - 1] = "0s";
    assertThat(run(args))
        .isEqualTo(
            new Result(
                2,
                "flowsight identity static: --read-back-timeout must be positive, e.g. PT2M or 2m"
                    + " (how long reading back what was published may take at start-up)"));
  }

  @Test
  void shouldReadDurationsInIsoOrShortForm() {
    assertThat(IdentitySourceMain.duration("PT10M")).isEqualTo(Duration.ofMinutes(10));
    assertThat(IdentitySourceMain.duration("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(IdentitySourceMain.duration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(IdentitySourceMain.duration("0")).isEqualTo(Duration.ZERO);
  }
}
