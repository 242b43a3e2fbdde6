package io.flowsight.console;

import io.flowsight.druid.DruidClient;
import io.flowsight.druid.DruidFiles;
import io.flowsight.druid.NamedQueries;
import io.flowsight.settings.ConfigException;
import io.flowsight.settings.Settings;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;

/** {@code ./flowsight console}: serves the console in the foreground until stopped. */
public final class ConsoleMain {

  private ConsoleMain() {}

  public static void main(String[] args) throws InterruptedException {
    Started started = start(args, System.getenv(), System.out, System.err);
    if (started.code() != 0 || started.server() == null) {
      System.exit(started.code());
    }
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  started.server().close();
                  stop.countDown();
                }));
    stop.await();
  }

  /** The server started (null after --help or --print-config, or on an error) and the exit code. */
  public record Started(ConsoleServer server, int code) {}

  /** Parses, checks and starts; errors are printed with the option to fix (exit code 2). */
  public static Started start(
      String[] args, Map<String, String> env, PrintStream out, PrintStream err) {
    Settings settings =
        ConsoleOptions.settings(w -> err.println("flowsight console: warning: " + w));
    ConsoleOptions options = new ConsoleOptions();
    CommandLine commandLine = Settings.command(options);
    try {
      if (Settings.printConfigRequested(args)) {
        out.print(settings.describe(commandLine, args, env));
        return new Started(null, 0);
      }
      settings.provideDefaults(commandLine, args, env);
      commandLine.parseArgs(args);
      if (commandLine.isUsageHelpRequested()) {
        commandLine.usage(out);
        return new Started(null, 0);
      }
      if (commandLine.isVersionHelpRequested()) {
        commandLine.printVersionHelp(out);
        return new Started(null, 0);
      }
      ConsoleOptions.Config config = options.toConfig(settings, env);
      ConsoleApi api =
          new ConsoleApi(
              new DruidClient(config.druidUrl()),
              new NamedQueries(DruidFiles.queries()),
              config.dataSource(),
              config.forecastDataSource(),
              System::currentTimeMillis);
      ConsoleServer server;
      try {
        server = new ConsoleServer(config.host(), config.port(), config.security(), api);
      } catch (BindException e) {
        err.println(
            "flowsight console: cannot listen on "
                + config.host()
                + ":"
                + config.port()
                + " ("
                + e.getMessage()
                + "): another process has it; choose another with --address");
        return new Started(null, 1);
      }
      out.printf(
          "flowsight console: %s://%s:%d/ (Druid %s, datasource %s, forecasts %s%s)%n",
          config.security().scheme(),
          config.host().contains(":") ? "[" + config.host() + "]" : config.host(),
          server.port(),
          config.druidUrl(),
          config.dataSource(),
          config.forecastDataSource(),
          config.security().authenticated()
              ? ", basic auth as " + config.security().username()
              : "");
      return new Started(server, 0);
    } catch (CommandLine.ParameterException e) {
      err.println("flowsight console: " + e.getMessage() + " (see --help)");
      return new Started(null, 2);
    } catch (ConfigException e) {
      err.println("flowsight console: " + e.getMessage());
      return new Started(null, 2);
    } catch (IOException e) {
      err.println("flowsight console: cannot start the server: " + e.getMessage());
      return new Started(null, 1);
    }
  }
}
