package io.pidspace.storm;

import io.pidspace.cli.StormCommand;
import picocli.CommandLine;

/** Options as a person writes them on the command line, defaults included; a later option overrides an earlier one. */
final class Args {

  private Args() {}

  static StormOptions options(String... args) {
    StormCommand command = new StormCommand();
    new CommandLine(command).setCaseInsensitiveEnumValuesAllowed(true).setOverwrittenOptionsAllowed(true).parseArgs(args);
    return command.options();
  }
}
