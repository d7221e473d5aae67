package io.pidspace.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "spaces",
    mixinStandardHelpOptions = true,
    description = "Lists a node's spaces with their stats; its subcommands create, show and destroy one.",
    subcommands = {SpacesCommand.Create.class, SpacesCommand.Show.class, SpacesCommand.Destroy.class})
final class SpacesCommand extends ClientCommand {

  @Override
  int run(ApiClient api) throws ApiClient.NoAnswer {
    return print(api.get("/v1/spaces"), answer -> table(answer.get("spaces")));
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Creates a space: the lowest free id, or --id; the default pid_max, or --pid-max.")
  static final class Create extends ClientCommand {

    @Option(names = "--id", description = "The space id to create.")
    Integer id;

    @Option(names = "--pid-max", description = "The space's pid_max: its vpids are below it.")
    Integer pidMax;

    @Override
    int run(ApiClient api) throws ApiClient.NoAnswer {
      StringBuilder body = new StringBuilder("{");
      if (id != null) {
        body.append("\"id\": ").append(id);
      }
      if (pidMax != null) {
        body.append(id != null ? ", " : "").append("\"pidMax\": ").append(pidMax);
      }
      return print(api.post("/v1/spaces", body.append('}').toString()), space ->
          "created space " + space.get("id").asInt() + " (pid_max " + space.get("pidMax").asInt() + ")");
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Shows one space's stats.")
  static final class Show extends ClientCommand {

    @Parameters(paramLabel = "SPACE", description = "The space id.")
    int space;

    @Override
    int run(ApiClient api) throws ApiClient.NoAnswer {
      return print(api.get("/v1/spaces/" + space), stats -> table(List.of(stats)));
    }
  }

  @Command(name = "destroy", mixinStandardHelpOptions = true,
      description = "Destroys a space: frees all its pids and makes its id free again.")
  static final class Destroy extends ClientCommand {

    @Parameters(paramLabel = "SPACE", description = "The space id.")
    int space;

    @Override
    int run(ApiClient api) throws ApiClient.NoAnswer {
      return print(api.delete("/v1/spaces/" + space), none -> "destroyed space " + space);
    }
  }

  private static String table(Iterable<JsonNode> spaces) {
    StringBuilder table = new StringBuilder(
        String.format("%5s %9s %9s %9s %5s", "SPACE", "PID_MAX", "ALLOCATED", "LAST_PID", "PAGES"));
    for (JsonNode s : spaces) {
      table.append(String.format("%n%5d %9d %9d %9d %5d", s.get("id").asInt(), s.get("pidMax").asInt(),
          s.get("allocated").asInt(), s.get("lastPid").asInt(), s.get("pagesInUse").asInt()));
    }
    return table.toString();
  }
}
