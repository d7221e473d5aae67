package io.pidspace.cli;

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

  public static void main(String[] args) {
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "pidspace-logback.xml");
    }
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"pidspace " + (v == null ? "(development build)" : v)};
    }
  }
}
