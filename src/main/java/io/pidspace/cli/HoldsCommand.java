package io.pidspace.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "holds", mixinStandardHelpOptions = true,
    description = {"Holds vpids of a space for a restore in flight: next-fit skips them and only",
        "`alloc SPACE --vpid N --hold ID` takes them, until the hold is released or expires."},
    subcommands = {HoldsCommand.Add.class, HoldsCommand.Release.class})
final class HoldsCommand implements Runnable {

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: add or release");
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Holds vpids and prints the hold's id.")
  static final class Add extends ClientCommand {

    @Parameters(paramLabel = "SPACE", description = "The space id.")
    int space;

    @Option(names = "--vpid", paramLabel = "VPID", split = ",", required = true,
        description = "A vpid to hold; repeat it (or separate with commas) for several.")
    List<Long> vpids = new ArrayList<>();

    @Option(names = "--ttl", defaultValue = "30s",
        description = "How long the hold lives: a number and ms, s, m or h (default: ${DEFAULT-VALUE}).")
    String ttl;

    @Override
    int run(ApiClient api) throws ApiClient.NoAnswer {
      return print(api.post("/v1/spaces/" + space + "/holds", Json.object("vpids", vpids, "ttl", ttl)),
          hold -> hold.get("hold").asText());
    }
  }

  @Command(name = "release", mixinStandardHelpOptions = true, description = "Releases a hold before its time.")
  static final class Release extends ClientCommand {

    @Parameters(index = "0", paramLabel = "SPACE", description = "The space id.")
    int space;

    @Parameters(index = "1", paramLabel = "ID", description = "The hold's id.")
    long hold;

    @Override
    int run(ApiClient api) throws ApiClient.NoAnswer {
      return print(api.delete("/v1/spaces/" + space + "/holds/" + hold), none -> "released hold " + hold);
    }
  }
}
