package io.pidspace.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "free", mixinStandardHelpOptions = true,
    description = "Frees global pids in one request. Prints each freed pid; each refused one goes to stderr "
        + "with its reason, and then the exit status is 1. With --generation, a pid allocated again since "
        + "that generation is refused (stale-handle) and stays allocated.")
final class FreeCommand extends ClientCommand {

  @Parameters(paramLabel = "PID", arity = "1..*", description = "Global pids.")
  int[] pids;

  @Option(names = "--generation", paramLabel = "N", split = ",",
      description = "The generation `alloc --generations` printed, one for each PID in the same order; "
          + "repeat it or separate with commas.")
  List<Long> generations = new ArrayList<>();

  @Override
  int run(ApiClient api) throws ApiClient.NoAnswer {
    if (!generations.isEmpty() && generations.size() != pids.length) {
      err().println(spec.qualifiedName() + ": --generation must name one generation for each PID");
      return 2;
    }
    ApiClient.Answer answer = api.post("/v1/pids:free", generations.isEmpty() ? Json.object("pids", pids)
        : Json.object("pids", pids, "generations", generations));
    int status = print(answer, result -> {
      StringBuilder freed = new StringBuilder();
      for (JsonNode pid : result.get("freed")) {
        freed.append(freed.length() == 0 ? "" : System.lineSeparator()).append("freed ").append(pid.asText());
      }
      return freed.toString();
    });
    if (status != 0) {
      return status;
    }
    JsonNode refused = answer.json().get("refused");
    for (JsonNode refusal : refused) {
      err().println(spec.qualifiedName() + ": pid " + refusal.get("pid").asText() + ": "
          + refusal.get("message").asText() + " (" + refusal.get("error").asText() + ")");
    }
    return refused.isEmpty() ? 0 : 1;
  }
}
