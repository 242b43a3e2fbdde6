package io.flowsight.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.flowsight.testing.Requirements;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus files of {@code deploy/prometheus/}: the alert rules pass {@code promtool check
 * rules}, every {@code flowsight_*} name they use is a metric the code registers (found by scanning
 * the main sources, so a renamed metric fails here), every rule says how long, how bad, what and
 * what to check; the jobs they select are those {@code scrape.yml} defines, and its Kubernetes jobs
 * select the labels and port names of the manifests.
 */
class AlertRulesTest {

  private static final Path ALERTS = Repository.file("deploy/prometheus/alerts.yml");
  private static final Path SCRAPE = Repository.file("deploy/prometheus/scrape.yml");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern METRIC = Pattern.compile("\\bflowsight_[a-z0-9_]+");
  private static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");

  @Test
  void shouldPassPromtoolsCheck() throws Exception {
    Optional<Path> promtool = promtool();
    Requirements.require(
        promtool.isPresent(),
        "promtool (Debian's prometheus package; ./flowsight test extracts it to"
            + " .flowsight/tools/promtool, or set FLOWSIGHT_PROMTOOL)");
    Process p =
        new ProcessBuilder(promtool.get().toString(), "check", "rules", ALERTS.toString())
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(output).isZero();
    assertThat(output).contains("SUCCESS: " + rules().size() + " rules found");
  }

  @Test
  void shouldUseOnlyMetricsTheCodeRegisters() throws IOException {
    Set<String> registered = registeredMetrics();
    // The scan itself: metrics of both services are found.
    assertThat(registered)
        .contains(
            "flowsight_sidecar_output_dropped_total",
            "flowsight_collector_dead_letters_total",
            "flowsight_collector_record_delivery_delay_seconds");
    Set<String> used = new TreeSet<>();
    for (JsonNode rule : rules()) {
      Matcher m = METRIC.matcher(rule.get("expr").asText());
      while (m.find()) {
        used.add(m.group());
      }
    }
    assertThat(used).isNotEmpty();
    for (String name : used) {
      String base = name.replaceFirst("_(bucket|sum|count)$", "");
      assertThat(registered.contains(name) || registered.contains(base))
          .as("%s in alerts.yml is no metric of the code", name)
          .isTrue();
    }
  }

  @Test
  void shouldSayForEveryAlertHowLongHowBadWhatAndWhatToCheck() throws IOException {
    List<JsonNode> rules = rules();
    assertThat(rules).hasSizeGreaterThanOrEqualTo(20);
    Set<String> names = new TreeSet<>();
    for (JsonNode rule : rules) {
      String name = rule.get("alert").asText();
      assertThat(names.add(name)).as("duplicate alert %s", name).isTrue();
      assertThat(rule.has("for")).as("%s: for", name).isTrue();
      assertThat(rule.path("labels").path("severity").asText()).as(name).isIn(SEVERITIES);
      assertThat(rule.path("annotations").path("summary").asText()).as(name).isNotBlank();
      assertThat(rule.path("annotations").path("description").asText())
          .as("%s: what to check", name)
          .hasSizeGreaterThan(80);
    }
  }

  @Test
  void shouldSelectTheJobsAndLabelsTheScrapeConfigurationAndTheManifestsDefine()
      throws IOException {
    JsonNode scrape = YAML.readTree(SCRAPE.toFile());
    Set<String> jobs = new TreeSet<>();
    for (JsonNode job : scrape.get("scrape_configs")) {
      jobs.add(job.get("job_name").asText());
      // A VM job renames itself to its Kubernetes twin: the same alerts apply.
      for (JsonNode relabel : job.path("relabel_configs")) {
        if (relabel.path("target_label").asText().equals("job")) {
          jobs.add(relabel.get("replacement").asText());
        }
      }
    }
    Pattern job = Pattern.compile("job=\"([^\"]+)\"");
    for (JsonNode rule : rules()) {
      Matcher m = job.matcher(rule.get("expr").asText());
      while (m.find()) {
        assertThat(jobs).as(rule.get("alert").asText()).contains(m.group(1));
      }
    }
    // The Kubernetes jobs keep the pods whose name label and port name the manifests give.
    Map<String, Map<String, String>> pods =
        Map.of(
            "flowsight-sidecar",
            KubernetesManifests.get(DaemonSet.class, "flowsight-sidecar")
                .getSpec()
                .getTemplate()
                .getMetadata()
                .getLabels(),
            "flowsight-collector",
            KubernetesManifests.get(StatefulSet.class, "flowsight-collector")
                .getSpec()
                .getTemplate()
                .getMetadata()
                .getLabels());
    for (JsonNode config : scrape.get("scrape_configs")) {
      if (!config.has("kubernetes_sd_configs")) {
        continue;
      }
      String name = config.get("job_name").asText();
      List<String> keeps = new ArrayList<>();
      for (JsonNode relabel : config.get("relabel_configs")) {
        if (relabel.path("action").asText().equals("keep")) {
          keeps.add(
              relabel.get("source_labels").get(0).asText() + "=" + relabel.get("regex").asText());
        }
      }
      assertThat(keeps)
          .as(name)
          .containsExactlyInAnyOrder(
              "__meta_kubernetes_pod_label_app_kubernetes_io_name="
                  + pods.get(name).get("app.kubernetes.io/name"),
              "__meta_kubernetes_pod_container_port_name=metrics");
    }
  }

  private static List<JsonNode> rules() throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode group : YAML.readTree(ALERTS.toFile()).get("groups")) {
      group.get("rules").forEach(out::add);
    }
    return out;
  }

  /** Every "flowsight_..." string literal of the main sources: the metric names registered. */
  private static Set<String> registeredMetrics() throws IOException {
    Path root = Repository.file("deploy/prometheus").getParent().getParent();
    Set<String> out = new TreeSet<>();
    Pattern literal = Pattern.compile("\"(flowsight_[a-z0-9_]+)\"");
    try (Stream<Path> files = Files.walk(root)) {
      for (Path file :
          files
              .filter(f -> f.toString().endsWith(".java"))
              .filter(f -> f.toString().contains("/src/main/java/"))
              .filter(f -> !f.toString().contains("/.flowsight/"))
              .toList()) {
        Matcher m = literal.matcher(Files.readString(file));
        while (m.find()) {
          out.add(m.group(1));
        }
      }
    }
    return out;
  }

  /** $FLOWSIGHT_PROMTOOL, else promtool on the PATH, else the one ./flowsight test extracts. */
  private static Optional<Path> promtool() {
    String configured = System.getenv("FLOWSIGHT_PROMTOOL");
    if (configured != null && !configured.isBlank()) {
      return Optional.of(Path.of(configured));
    }
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      Path candidate = Path.of(dir, "promtool");
      if (Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    Path extracted =
        Repository.file("deploy/prometheus")
            .getParent()
            .getParent()
            .resolve(".flowsight/tools/promtool");
    return Files.isExecutable(extracted) ? Optional.of(extracted) : Optional.empty();
  }
}
