package io.flowsight.druid;

import io.flowsight.settings.ConfigException;
import io.flowsight.settings.Settings;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ./flowsight druid apply|status|remove|ready} and {@code ./flowsight query}: Flowsight's
 * Druid client on the command line. Every request goes to the router ({@code --url}, {@code
 * FLOWSIGHT_DRUID_URL}, default {@code http://127.0.0.1:$FLOWSIGHT_DRUID_ROUTER_PORT}, 18888),
 * which forwards SQL to the broker and the supervisor, task and rule APIs to the
 * coordinator-overlord.
 */
@Command(
    name = "druid",
    mixinStandardHelpOptions = true,
    description = "Flowsight's Druid client: the supervisor, readiness, the analysts' queries.",
    subcommands = {
      DruidMain.Apply.class,
      DruidMain.Status.class,
      DruidMain.Remove.class,
      DruidMain.Ready.class,
      DruidMain.Query.class
    })
public final class DruidMain {

  /** Settings variables: FLOWSIGHT_DRUID_ and the option's name. */
  static final String ENV_PREFIX = "FLOWSIGHT_DRUID_";

  /** The local stack's own FLOWSIGHT_DRUID_* variables (ports, heaps), which are no options. */
  static final Set<String> STACK_VARIABLES =
      Set.of(
          "FLOWSIGHT_DRUID_COORDINATOR_PORT",
          "FLOWSIGHT_DRUID_BROKER_PORT",
          "FLOWSIGHT_DRUID_HISTORICAL_PORT",
          "FLOWSIGHT_DRUID_INDEXER_PORT",
          "FLOWSIGHT_DRUID_ROUTER_PORT",
          "FLOWSIGHT_DRUID_METADATA_PORT",
          "FLOWSIGHT_DRUID_COORDINATOR_HEAP",
          "FLOWSIGHT_DRUID_BROKER_HEAP",
          "FLOWSIGHT_DRUID_HISTORICAL_HEAP",
          "FLOWSIGHT_DRUID_INDEXER_HEAP",
          "FLOWSIGHT_DRUID_ROUTER_HEAP",
          "FLOWSIGHT_DRUID_INDEXER_CAPACITY",
          "FLOWSIGHT_DRUID_JAVA",
          "FLOWSIGHT_DRUID_START_TIMEOUT",
          "FLOWSIGHT_DRUID_STOP_TIMEOUT");

  /** Exit code when Druid fails or refuses a request. */
  static final int EXIT_DRUID = 1;

  /** Exit code for a bad option or value. */
  static final int EXIT_USAGE = 2;

  @Option(
      names = "--url",
      // Before or after the subcommand: ./flowsight query top-talkers --url U.
      scope = CommandLine.ScopeType.INHERIT,
      description =
          "the router (env FLOWSIGHT_DRUID_URL; default http://127.0.0.1:"
              + "$FLOWSIGHT_DRUID_ROUTER_PORT, 18888)")
  String url;

  private Map<String, String> env = Map.of();
  private PrintStream out = System.out;

  DruidClient client() {
    return new DruidClient(url == null ? DruidClient.defaultUrl(env) : url);
  }

  public static void main(String[] args) {
    System.exit(run(args, System.getenv(), System.out, System.err));
  }

  /** Runs one command; its exit code. */
  public static int run(String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    DruidMain main = new DruidMain();
    main.env = env;
    main.out = out;
    CommandLine commandLine = Settings.command(main);
    // An option given twice: the last one counts, as in most command-line tools.
    commandLine.setOverwrittenOptionsAllowed(true);
    commandLine.setOut(new java.io.PrintWriter(out, true));
    commandLine.setErr(new java.io.PrintWriter(err, true));
    commandLine.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof DruidException) {
            err.println("druid: " + e.getMessage());
            return EXIT_DRUID;
          }
          if (e instanceof IllegalArgumentException) {
            err.println("druid: " + e.getMessage());
            return EXIT_USAGE;
          }
          throw e;
        });
    try {
      new Settings(ENV_PREFIX, STACK_VARIABLES, Map.of(), m -> err.println("warning: " + m))
          .provideDefaults(commandLine, args, env);
    } catch (ConfigException e) {
      err.println("druid: " + e.getMessage());
      return EXIT_USAGE;
    }
    return commandLine.execute(args);
  }

  @Command(
      name = "apply",
      mixinStandardHelpOptions = true,
      description = "Submit or update the supervisor spec (idempotent) and set the load rules.")
  static final class Apply implements Callable<Integer> {
    @ParentCommand DruidMain main;

    @Option(names = "--spec", description = "supervisor spec (deploy/druid/flows-supervisor.json)")
    Path spec;

    @Option(
        names = "--datasource",
        description = "datasource (and supervisor id) instead of the spec's")
    String dataSource;

    @Option(names = "--topic", description = "Kafka topic instead of the spec's")
    String topic;

    @Option(
        names = "--bootstrap-servers",
        description =
            "Kafka bootstrap servers (default 127.0.0.1:$FLOWSIGHT_KAFKA_PORT, else the spec's)")
    String bootstrapServers;

    @Option(
        names = "--wait",
        defaultValue = "20",
        description = "seconds to wait for a new supervisor's state (${DEFAULT-VALUE})")
    int waitSeconds;

    @Override
    public Integer call() {
      Path file = spec == null ? DruidFiles.supervisorSpec() : spec;
      new Supervisors(main.client(), main.out)
          .apply(
              Supervisors.loadSpec(file, dataSource, topic, bootstrapServers, main.env),
              waitSeconds);
      return 0;
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "Supervisor state, tasks, lag and row counts.")
  static final class Status implements Callable<Integer> {
    @ParentCommand DruidMain main;

    @Option(names = "--datasource", defaultValue = "flows", description = "datasource (flows)")
    String dataSource;

    @Option(names = "--brief", description = "one line: the supervisor's state")
    boolean brief;

    @Override
    public Integer call() {
      new Supervisors(main.client(), main.out).status(dataSource, brief);
      return 0;
    }
  }

  @Command(
      name = "remove",
      mixinStandardHelpOptions = true,
      description =
          "Terminate a supervisor; --drop-data also deletes its segments and committed offsets.")
  static final class Remove implements Callable<Integer> {
    @ParentCommand DruidMain main;

    @Option(names = "--datasource", defaultValue = "flows", description = "datasource (flows)")
    String dataSource;

    @Option(
        names = "--drop-data",
        description = "delete the datasource's segments and committed offsets")
    boolean dropData;

    @Option(names = "--yes", description = "needed to drop the data of the flows datasource")
    boolean yes;

    @Option(
        names = "--timeout",
        defaultValue = "180",
        description = "seconds to wait for tasks (${DEFAULT-VALUE})")
    int timeoutSeconds;

    @Override
    public Integer call() {
      if (dataSource.equals(NamedQueries.DEFAULT_DATASOURCE) && dropData && !yes) {
        throw new DruidException("dropping the data of " + dataSource + " needs --yes");
      }
      new Supervisors(main.client(), main.out).remove(dataSource, dropData, timeoutSeconds);
      return 0;
    }
  }

  @Command(
      name = "ready",
      mixinStandardHelpOptions = true,
      description =
          "Whether Druid can serve the client: the router healthy, the coordinator and the"
              + " overlord leading, the broker answering SQL; waits up to --wait seconds.")
  static final class Ready implements Callable<Integer> {
    @ParentCommand DruidMain main;

    @Option(
        names = "--wait",
        defaultValue = "0",
        description = "seconds to wait for it (${DEFAULT-VALUE}: ask once)")
    int waitSeconds;

    @Option(names = "--quiet", description = "print nothing, the exit code says it")
    boolean quiet;

    @Override
    public Integer call() throws InterruptedException {
      DruidClient druid = main.client();
      long deadline = System.nanoTime() + waitSeconds * 1_000_000_000L;
      List<DruidClient.Check> checks;
      while (true) {
        checks = druid.readiness();
        if (checks.stream().allMatch(DruidClient.Check::ok) || System.nanoTime() >= deadline) {
          break;
        }
        Thread.sleep(1000);
      }
      boolean ready = checks.stream().allMatch(DruidClient.Check::ok);
      if (!quiet) {
        for (DruidClient.Check c : checks) {
          main.out.println(
              (c.ok() ? "ok    " : "FAIL  ") + c.what() + (c.ok() ? "" : ": " + c.failure()));
        }
        main.out.println(
            ready
                ? "Druid at " + druid.url() + " is ready"
                : "Druid at " + druid.url() + " is not ready");
      }
      return ready ? 0 : EXIT_DRUID;
    }
  }

  @Command(
      name = "query",
      mixinStandardHelpOptions = true,
      description = "Named queries (deploy/druid/queries/*.sql) and ad-hoc SQL.")
  static final class Query implements Callable<Integer> {
    @ParentCommand DruidMain main;

    @CommandLine.Parameters(
        index = "0",
        arity = "0..1",
        paramLabel = "NAME",
        description = "query name (--list shows them)")
    String name;

    @Option(names = "--list", description = "list the named queries")
    boolean list;

    @Option(names = "--sql", description = "run this SQL instead of a named query")
    String sql;

    @Option(
        names = "--since",
        defaultValue = "1h",
        description =
            "start: a duration before now (1h, 30m, PT6H, P7D) or an ISO time (${DEFAULT-VALUE})")
    String since;

    @Option(names = "--until", description = "end (exclusive): same forms as --since (now)")
    String until;

    @Option(names = "--app", description = "dependencies: the application")
    String app;

    @Option(
        names = "--app-pair",
        description = "timeseries: CLIENT_APP,SERVER_APP, either may be * (all pairs)")
    String appPair;

    @Option(
        names = "--granularity",
        defaultValue = "PT1M",
        description = "timeseries: bucket, PT1M, PT5M, PT1H, P1D... (${DEFAULT-VALUE})")
    String granularity;

    @Option(names = "--no-fill", description = "timeseries: no zero rows for empty buckets")
    boolean noFill;

    @Option(
        names = "--limit",
        defaultValue = "20",
        description = "rows at most, for ranked queries (${DEFAULT-VALUE})")
    int limit;

    @Option(
        names = "--format",
        defaultValue = "table",
        description = "output: table, csv or json (${DEFAULT-VALUE})")
    OutputFormat format;

    @Option(
        names = "--datasource",
        defaultValue = "flows",
        description = "datasource to query (${DEFAULT-VALUE})")
    String dataSource;

    @Option(names = "--show-sql", description = "print the SQL and its parameters, run nothing")
    boolean showSql;

    @Option(
        names = "--queries",
        description = "directory of the named queries (deploy/druid/queries)")
    Path queries;

    @Override
    public Integer call() {
      NamedQueries named = new NamedQueries(queries == null ? DruidFiles.queries() : queries);
      if (list) {
        main.out.print(named.listing());
        return 0;
      }
      QueryRun run =
          new QueryRun(
              name, sql, since, until, app, appPair, granularity, !noFill, limit, dataSource);
      long now = System.currentTimeMillis();
      if (showSql) {
        main.out.print(QueryRun.showSql(run.prepare(named, now)));
        return 0;
      }
      run.print(main.client(), named, format, now, main.out);
      return 0;
    }
  }
}
