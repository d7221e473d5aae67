package io.pidspace.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code java -jar pidspace.jar <command>}: the entry point of every pidspace command. */
@Command(
    name = "pidspace",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "A pid authority for container platforms: the 2006 pidspaces design on Akka.",
    subcommands = {
      NodeCommand.class, ReplayCommand.class, StormCommand.class,
      SpacesCommand.class, AllocCommand.class, FreeCommand.class, LookupCommand.class, HoldsCommand.class, ReconcileCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** PIDSPACE_LOG_FORMAT: {@code text} (the default) or {@code json}, one JSON object a line. */
  static final String LOG_FORMAT = "PIDSPACE_LOG_FORMAT";

  public static void main(String[] args) {
    if (System.getProperty("logback.configurationFile") == null) {
      String format = System.getenv().getOrDefault(LOG_FORMAT, "text");
      switch (format) {
        case "text" -> System.setProperty("logback.configurationFile", "pidspace-logback.xml");
        case "json" -> System.setProperty("logback.configurationFile", "pidspace-logback-json.xml");
        default -> {
          System.err.println("pidspace: " + LOG_FORMAT + " must be text or json");
          System.exit(2);
        }
      }
    }
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
        .setParameterExceptionHandler(Main::usageError);
    versionEverywhere(cli);
    return cli;
  }

  /** {@code pidspace storm --version} says the version too, not an empty line. */
  private static void versionEverywhere(CommandLine cli) {
    for (CommandLine sub : cli.getSubcommands().values()) {
      sub.getCommandSpec().versionProvider(new Version());
      versionEverywhere(sub);
    }
  }

  /**
   * A usage error: the message, picocli's suggestions for a mistyped name, and where help is; not
   * the whole usage, which buries the one line that matters. Exit status 2.
   */
  static int usageError(CommandLine.ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    PrintWriter err = cmd.getErr();
    String name = cmd.getCommandSpec().qualifiedName();
    err.println(name + ": " + e.getMessage());
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Try '" + name + " --help' for more information.");
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"pidspace " + PidspaceVersion.get()};
    }
  }
}
