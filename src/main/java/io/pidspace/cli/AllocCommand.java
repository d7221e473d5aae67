package io.pidspace.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "alloc", mixinStandardHelpOptions = true,
    description = {"Allocates pids from a space and prints them, one global pid a line.",
        "With --vpid: exactly those vpids, all or nothing (clone3 set_tid), printed in the order given.",
        "With --generations: each pid and its generation, for `free --generation`."})
final class AllocCommand extends ClientCommand {

  @Parameters(paramLabel = "SPACE", description = "The space id.")
  int space;

  @Option(names = "--count", defaultValue = "1",
      description = "How many pids; fewer when the space runs out (default: ${DEFAULT-VALUE}).")
  int count;

  @Option(names = "--vpid", paramLabel = "VPID", split = ",",
      description = "An exact vpid to allocate; repeat it (or separate with commas) for several.")
  List<Long> vpids = new ArrayList<>();

  @Option(names = "--hold", paramLabel = "ID", description = "With --vpid: the hold whose vpids these are.")
  String hold;

  @Option(names = "--generations",
      description = "Print each pid's generation after it (`PID GENERATION`): a free that names it frees the pid "
          + "only while this allocation holds it.")
  boolean generations;

  @Override
  int run(ApiClient api) throws ApiClient.NoAnswer {
    if (hold != null && vpids.isEmpty()) {
      err().println(spec.qualifiedName() + ": --hold needs --vpid");
      return 2;
    }
    ApiClient.Answer answer = vpids.isEmpty()
        ? api.post("/v1/spaces/" + space + "/pids?count=" + count, "")
        : api.post("/v1/spaces/" + space + "/pids", Json.object("vpids", vpids, "hold", hold));
    return print(answer, pids -> {
      List<String> lines = new ArrayList<>();
      JsonNode pid = pids.get("pids");
      for (int i = 0; i < pid.size(); i++) {
        lines.add(generations ? pid.get(i).asText() + " " + pids.get("generations").get(i).asText() : pid.get(i).asText());
      }
      return String.join(System.lineSeparator(), lines);
    });
  }
}
