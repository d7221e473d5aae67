package io.pidspace.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "lookup", mixinStandardHelpOptions = true,
    description = "Decodes a global pid into its space and vpid, and says whether it is allocated.")
final class LookupCommand extends ClientCommand {

  @Parameters(paramLabel = "PID", description = "A global pid.")
  int pid;

  @Override
  int run(ApiClient api) throws ApiClient.NoAnswer {
    return print(api.get("/v1/pids/" + pid), info -> "pid " + info.get("pid").asText()
        + ": space " + info.get("space").asText()
        + ", vpid " + info.get("vpid").asText()
        + (info.get("allocated").asBoolean() ? ", allocated" : ", not allocated"));
  }
}
