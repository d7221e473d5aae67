package io.pidspace.cli;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "free", mixinStandardHelpOptions = true,
    description = "Frees global pids in one request. Prints each freed pid; each refused one goes to stderr "
        + "with its reason, and then the exit status is 1.")
final class FreeCommand extends ClientCommand {

  @Parameters(paramLabel = "PID", arity = "1..*", description = "Global pids.")
  int[] pids;

  @Override
  int run(ApiClient api) throws ApiClient.NoAnswer {
    ApiClient.Answer answer = api.post("/v1/pids:free", Json.object("pids", pids));
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
