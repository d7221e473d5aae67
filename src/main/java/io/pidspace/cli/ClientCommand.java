package io.pidspace.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * A command that talks to a node's API: the options they all share, and one way to print an
 * answer. Exit status: 0 done, 1 refused by the node or no answer from it, 2 bad usage.
 */
abstract class ClientCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(names = "--url", defaultValue = "http://127.0.0.1:8080",
      description = "The node's HTTP API (default: ${DEFAULT-VALUE}, the local node).")
  String url;

  @Option(names = "--token", defaultValue = "${env:PIDSPACE_TOKEN}",
      description = "Bearer token for changes, when the node asks for one (default: $PIDSPACE_TOKEN).")
  String token;

  @Option(names = "--json", description = "Print the node's JSON answer instead of text.")
  boolean json;

  @Option(names = "--timeout", defaultValue = "30", paramLabel = "SECONDS",
      description = "How long to wait for the node (default: ${DEFAULT-VALUE}).")
  int timeoutSeconds;

  @Override
  public final Integer call() {
    try {
      return run(new ApiClient(url, token, Duration.ofSeconds(timeoutSeconds)));
    } catch (ApiClient.NoAnswer e) {
      err().println(spec.qualifiedName() + ": " + e.getMessage());
      return 1;
    }
  }

  abstract int run(ApiClient api) throws ApiClient.NoAnswer;

  /**
   * Prints a success as {@code text} says (nothing when empty), or the node's JSON with {@code --json}; an error as the
   * node's message on stderr (and its JSON on stdout with {@code --json}), exit status 1.
   */
  int print(ApiClient.Answer answer, Function<JsonNode, String> text) {
    if (json && !answer.body().isEmpty()) {
      out().println(answer.body());
    }
    if (!answer.ok()) {
      err().println(spec.qualifiedName() + ": " + answer.error());
      return 1;
    }
    String printed = json ? "" : text.apply(answer.json());
    if (!printed.isEmpty()) {
      out().println(printed);
    }
    return 0;
  }

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  PrintWriter err() {
    return spec.commandLine().getErr();
  }
}
