package io.pidspace.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(
    name = "spaces",
    mixinStandardHelpOptions = true,
    description = {"Lists a node's spaces with their stats; its subcommands create, show, destroy,",
        "export and import one and set its pid_max."},
    subcommands = {SpacesCommand.Create.class, SpacesCommand.Show.class, SpacesCommand.Destroy.class,
        SpacesCommand.Export.class, SpacesCommand.Import.class, SpacesCommand.SetPidMax.class,
        SpacesCommand.SetReuseDelay.class})
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
      return print(api.post("/v1/spaces", Json.object("id", id, "pidMax", pidMax)), space ->
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

  @Command(name = "export", mixinStandardHelpOptions = true,
      description = "Prints a space's whole state as one portable JSON document (for `spaces import`).")
  static final class Export extends ClientCommand {

    @Parameters(paramLabel = "SPACE", description = "The space id.")
    int space;

    @Override
    int run(ApiClient api) throws ApiClient.NoAnswer {
      json = true; // the document is the output
      return print(api.get("/v1/spaces/" + space + "/export"), document -> "");
    }
  }

  @Command(name = "import", mixinStandardHelpOptions = true,
      description = "Creates a space exactly as a document of `spaces export` describes it, all or nothing.")
  static final class Import extends ClientCommand {

    @Parameters(paramLabel = "FILE", description = "The document, as `spaces export` printed it.")
    Path file;

    @Option(names = "--id", description = "The space id to create (default: the lowest free one).")
    Integer id;

    @Override
    int run(ApiClient api) throws ApiClient.NoAnswer {
      String document;
      try {
        document = Files.readString(file);
      } catch (IOException e) {
        err().println(spec.qualifiedName() + ": cannot read " + file + ": " + e.getMessage());
        return 1;
      }
      // the document goes as it is: the node checks all of it
      return print(api.post("/v1/spaces:import", Json.object("id", id, "document", Json.raw(document.strip()))), space ->
          "imported space " + space.get("id").asInt() + " (pid_max " + space.get("pidMax").asInt() + ", "
              + space.get("allocated").asInt() + " allocated)");
    }
  }

  @Command(name = "set-pid-max", mixinStandardHelpOptions = true,
      description = "Sets a space's pid_max: up any time, down only above its highest allocated or held vpid.")
  static final class SetPidMax extends ClientCommand {

    @Parameters(index = "0", paramLabel = "SPACE", description = "The space id.")
    int space;

    @Parameters(index = "1", paramLabel = "PID_MAX", description = "The new pid_max.")
    long pidMax;

    @Override
    int run(ApiClient api) throws ApiClient.NoAnswer {
      return print(api.patch("/v1/spaces/" + space, Json.object("pidMax", pidMax)), stats -> table(List.of(stats)));
    }
  }

  @Command(name = "set-reuse-delay", mixinStandardHelpOptions = true,
      description = "Sets how long a freed vpid is kept from next-fit (0s: off, the default).")
  static final class SetReuseDelay extends ClientCommand {

    @Parameters(index = "0", paramLabel = "SPACE", description = "The space id.")
    int space;

    @Parameters(index = "1", paramLabel = "DELAY", description = "A number and ms, s, m or h, e.g. 30s.")
    String delay;

    @Override
    int run(ApiClient api) throws ApiClient.NoAnswer {
      return print(api.patch("/v1/spaces/" + space, Json.object("reuseDelay", delay)),
          stats -> "space " + space + ": freed vpids wait " + delay + " before next-fit hands them out again");
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
