package io.pidspace.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "reconcile", mixinStandardHelpOptions = true,
    description = {"Compares a space with the vpids the container runtime sees alive: prints the leaked",
        "ones (allocated, not alive) and the unknown ones (alive, never allocated: reported, never fixed).",
        "With --apply, frees leaked vpids that were leaked in the node's last reports too",
        "(pidspace.reconcile.reports, default 3)."})
final class ReconcileCommand extends ClientCommand {

  @Parameters(paramLabel = "SPACE", description = "The space id.")
  int space;

  @Option(names = "--alive-file", required = true, paramLabel = "FILE",
      description = "The alive vpids, separated by whitespace or commas (e.g. one a line).")
  Path aliveFile;

  @Option(names = "--apply", description = "Free the vpids that have been leaked long enough.")
  boolean apply;

  @Override
  int run(ApiClient api) throws ApiClient.NoAnswer {
    List<Long> alive = new ArrayList<>();
    try {
      for (String word : Files.readString(aliveFile).split("[\\s,]+")) {
        if (!word.isEmpty()) {
          if (!word.chars().allMatch(c -> c >= '0' && c <= '9') || word.length() > 10) {
            err().println(spec.qualifiedName() + ": " + aliveFile + " must hold vpids (whole numbers) only");
            return 2;
          }
          alive.add(Long.parseLong(word));
        }
      }
    } catch (IOException e) {
      err().println(spec.qualifiedName() + ": cannot read " + aliveFile + ": " + e.getMessage());
      return 1;
    }
    return print(api.post("/v1/spaces/" + space + ":reconcile", Json.object("alive", alive, "apply", apply)), report ->
        "leaked:  " + list(report.get("leaked")) + System.lineSeparator()
            + "unknown: " + list(report.get("unknown")) + System.lineSeparator()
            + "freed:   " + list(report.get("freed")));
  }

  private static String list(JsonNode vpids) {
    List<String> out = new ArrayList<>();
    vpids.forEach(v -> out.add(v.asText()));
    return out.isEmpty() ? "-" : String.join(" ", out);
  }
}
