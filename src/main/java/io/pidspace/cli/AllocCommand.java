package io.pidspace.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "alloc", mixinStandardHelpOptions = true,
    description = "Allocates pids from a space and prints them, one global pid a line.")
final class AllocCommand extends ClientCommand {

  @Parameters(paramLabel = "SPACE", description = "The space id.")
  int space;

  @Option(names = "--count", defaultValue = "1",
      description = "How many pids; fewer when the space runs out (default: ${DEFAULT-VALUE}).")
  int count;

  @Override
  int run(ApiClient api) throws ApiClient.NoAnswer {
    return print(api.post("/v1/spaces/" + space + "/pids?count=" + count, ""), answer -> {
      List<String> lines = new ArrayList<>();
      for (JsonNode pid : answer.get("pids")) {
        lines.add(pid.asText());
      }
      return String.join(System.lineSeparator(), lines);
    });
  }
}
