package io.flowsight.forecast.job;

import io.flowsight.druid.DruidClient;
import io.flowsight.druid.DruidException;
import io.flowsight.druid.DruidFiles;
import io.flowsight.druid.NamedQueries;
import io.flowsight.druid.Supervisors;
import io.flowsight.settings.ConfigException;
import io.flowsight.settings.KafkaSecurityOptions;
import io.flowsight.settings.Settings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code ./flowsight forecast}: reads the traffic series of every application pair and of every
 * zone pair and service port from Druid, fits a model to each, and writes the forecasts with their
 * intervals to the forecast topic, which Druid ingests into a datasource of its own ({@code
 * deploy/druid/forecast-supervisor.json}). One run; schedule it (a systemd timer, a Kubernetes
 * CronJob) at the step's pace.
 */
@Command(name = "./flowsight forecast", mixinStandardHelpOptions = true, sortOptions = false)
public final class ForecastMain {

  static final String ENV_PREFIX = "FLOWSIGHT_FORECAST_";

  /** Exit codes: Druid or Kafka failed; a bad setting. */
  static final int EXIT_FAILED = 1;

  static final int EXIT_CONFIG = 2;

  private static final Settings SETTINGS =
      new Settings(
          ENV_PREFIX,
          KafkaSecurityOptions.secretVariables(ENV_PREFIX),
          Map.of(),
          warning -> System.err.println("flowsight forecast: warning: " + warning));

  @Option(
      names = "--druid-url",
      paramLabel = "URL",
      description = "Druid's router (default: FLOWSIGHT_DRUID_URL, else http://127.0.0.1:18888).")
  String druidUrl;

  @Option(
      names = "--datasource",
      defaultValue = "flows",
      description = "The flows datasource (${DEFAULT-VALUE}).")
  String dataSource;

  @Option(
      names = "--queries",
      paramLabel = "DIR",
      description = "The named queries (default: deploy/druid/queries).")
  Path queries;

  @Option(
      names = "--step",
      defaultValue = "1h",
      description = "The series' step; a day must be a whole number of them (${DEFAULT-VALUE}).")
  String step;

  @Option(
      names = "--history",
      defaultValue = "28d",
      description = "How far back the series are read (${DEFAULT-VALUE}).")
  String history;

  @Option(
      names = "--horizon",
      defaultValue = "1d",
      description = "How far ahead to forecast (${DEFAULT-VALUE}).")
  String horizon;

  @Option(
      names = "--coverage",
      defaultValue = "0.95",
      description = "The prediction intervals' nominal coverage (${DEFAULT-VALUE}).")
  double coverage;

  @Option(
      names = "--bootstrap-servers",
      defaultValue = "127.0.0.1:9092",
      description = "Kafka (${DEFAULT-VALUE}).")
  String bootstrapServers;

  @Option(
      names = "--topic",
      defaultValue = "flows-forecast-v1",
      description = "Where the forecasts go (${DEFAULT-VALUE}); created when missing.")
  String topic;

  @Option(
      names = "--forecast-datasource",
      defaultValue = "flows_forecast",
      description =
          "The forecasts' datasource (${DEFAULT-VALUE}): its supervisor is submitted with the"
              + " topic and the bootstrap servers above when Druid has none for it.")
  String forecastDataSource;

  @Option(
      names = "--supervisor-spec",
      paramLabel = "FILE",
      description =
          "The forecasts' supervisor spec (default: deploy/druid/forecast-supervisor.json).")
  Path supervisorSpec;

  @Option(
      names = "--dry-run",
      description = "Forecast and print the summary, write nothing to Kafka.")
  boolean dryRun;

  @Mixin KafkaSecurityOptions kafkaSecurity = new KafkaSecurityOptions();

  public static void main(String[] args) {
    System.exit(run(args, System.getenv(), Clock.systemUTC(), System.out, System.err));
  }

  static int run(
      String[] args, Map<String, String> env, Clock clock, PrintStream out, PrintStream err) {
    for (String arg : args) {
      if (arg.equals("-h") || arg.equals("--help")) {
        Settings.command(new ForecastMain()).usage(out);
        return 0;
      }
    }
    ForecastMain o;
    Duration stepValue;
    Duration historyValue;
    Duration horizonValue;
    Map<String, String> security;
    try {
      o = SETTINGS.parse(new ForecastMain(), args, env);
      stepValue = SETTINGS.duration("--step", o.step);
      historyValue = SETTINGS.duration("--history", o.history);
      horizonValue = SETTINGS.duration("--horizon", o.horizon);
      if (stepValue.isZero() || Duration.ofDays(1).toMillis() % stepValue.toMillis() != 0) {
        throw SETTINGS.bad("--step", o.step, "a day must be a whole number of steps, e.g. 1h, 15m");
      }
      if (historyValue.toMillis() % stepValue.toMillis() != 0 || historyValue.isZero()) {
        throw SETTINGS.bad("--history", o.history, "use a whole number of steps, e.g. 28d");
      }
      if (horizonValue.toMillis() < stepValue.toMillis()) {
        throw SETTINGS.bad("--horizon", o.horizon, "forecast at least one step, e.g. 1d");
      }
      if (!(o.coverage > 0 && o.coverage < 1)) {
        throw SETTINGS.bad("--coverage", String.valueOf(o.coverage), "use a share, e.g. 0.95");
      }
      security = o.kafkaSecurity.clientProperties(SETTINGS, env);
    } catch (CommandLine.ParameterException | ConfigException e) {
      err.println("flowsight forecast: " + e.getMessage());
      err.println("Run ./flowsight forecast --help for the options.");
      return EXIT_CONFIG;
    }

    long stepMillis = stepValue.toMillis();
    Instant until = Instant.ofEpochMilli(clock.millis() / stepMillis * stepMillis);
    Instant since = until.minus(historyValue);
    String url = o.druidUrl != null ? o.druidUrl : DruidClient.defaultUrl(env);
    DruidClient druid = new DruidClient(url);
    List<Series> series;
    try {
      series =
          new DruidSeries(
                  druid,
                  new NamedQueries(o.queries != null ? o.queries : DruidFiles.queries()),
                  o.dataSource)
              .read(since, until, stepValue);
    } catch (DruidException e) {
      err.println("flowsight forecast: " + e.getMessage());
      return EXIT_FAILED;
    }
    long pairs = series.stream().filter(s -> s.key().kind() == SeriesKey.Kind.APP_PAIR).count();
    out.printf(
        Locale.ROOT,
        "read %s of %s (%s .. %s) at %s from %s: %d application pairs, %d zone pairs and ports%n",
        o.history,
        o.dataSource,
        since,
        until,
        stepValue,
        url,
        pairs,
        series.size() - pairs);

    int horizonSteps = (int) (horizonValue.toMillis() / stepMillis);
    ForecastJob.Result result =
        new ForecastJob(stepValue, horizonSteps, o.coverage).run(series, clock.millis());
    Map<String, Long> byModel =
        result.points().stream()
            .collect(
                Collectors.groupingBy(ForecastPoint::model, TreeMap::new, Collectors.counting()));
    out.printf(
        Locale.ROOT,
        "forecast %d series %d steps ahead (%s); skipped %d%n",
        result.forecastSeries(),
        horizonSteps,
        byModel.entrySet().stream()
            .map(e -> e.getKey() + " " + e.getValue() / horizonSteps)
            .collect(Collectors.joining(", ")),
        result.skipped().size());
    for (ForecastJob.Skipped s : result.skipped()) {
      out.printf("  skipped %s: %s%n", s.key().text(), s.reason());
    }
    if (o.dryRun) {
      out.printf("dry run: %d points not written%n", result.points().size());
      return 0;
    }
    try {
      createTopic(o.bootstrapServers, o.topic, security);
      try (KafkaForecastSink sink = new KafkaForecastSink(o.bootstrapServers, o.topic, security)) {
        sink.write(result.points(), Duration.ofMinutes(2));
      }
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      err.println(
          "flowsight forecast: could not write the forecasts to "
              + o.topic
              + " on "
              + o.bootstrapServers
              + ": "
              + (e.getCause() != null ? e.getCause() : e));
      return EXIT_FAILED;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return EXIT_FAILED;
    }
    out.printf(
        "wrote %d points to %s on %s%n", result.points().size(), o.topic, o.bootstrapServers);
    try {
      if (druid.supervisorStatus(o.forecastDataSource).isEmpty()) {
        Path spec =
            o.supervisorSpec != null
                ? o.supervisorSpec
                : DruidFiles.supervisorSpec().resolveSibling("forecast-supervisor.json");
        new Supervisors(druid, out)
            .apply(
                Supervisors.loadSpec(
                    spec, o.forecastDataSource, o.topic, o.bootstrapServers, Map.of()),
                30);
      }
    } catch (DruidException e) {
      err.println(
          "flowsight forecast: the forecasts are in "
              + o.topic
              + " but Druid's supervisor for "
              + o.forecastDataSource
              + " could not be submitted: "
              + e.getMessage());
      return EXIT_FAILED;
    }
    return 0;
  }

  /** The topic with one partition and the broker's replication, unless it exists. */
  private static void createTopic(
      String bootstrapServers, String topic, Map<String, String> security)
      throws ExecutionException, InterruptedException, TimeoutException {
    Map<String, Object> props = new HashMap<>(security);
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    try (Admin admin = Admin.create(props)) {
      Set<String> names = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      if (!names.contains(topic)) {
        try {
          admin
              .createTopics(List.of(new NewTopic(topic, Optional.of(1), Optional.empty())))
              .all()
              .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
    }
  }
}
