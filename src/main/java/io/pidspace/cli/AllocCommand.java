package io.pidspace.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "alloc", mixinStandardHelpOptions = true,
    description = {"Allocates pids from a space and prints them, one global pid a line.",
        "With --vpid: exactly those vpids, all or nothing (clone3 set_tid), printed in the order given.",
        "With --generations: each pid and its generation, for `free --generation`.",
        "Without --vpid it sends an idempotency key (a new UUID, or --key) and retries an unknown outcome",
        "(no answer, a lost connection, 503) a few times with it: a retry answers the same pids."})
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

  @Option(names = "--key", paramLabel = "KEY",
      description = "The idempotency key (1..64 of A-Z a-z 0-9 . _ : -; default: a new UUID): the same key again "
          + "answers the same pids. Never reuse one for a new alloc.")
  String key;

  /** Retries of an unknown outcome, and the wait before the first (doubling after each). */
  static final int RETRIES = 3;
  static final long FIRST_BACKOFF_MILLIS = 250;

  @Override
  int run(ApiClient api) throws ApiClient.NoAnswer {
    if (hold != null && vpids.isEmpty()) {
      err().println(spec.qualifiedName() + ": --hold needs --vpid");
      return 2;
    }
    if (key != null && !vpids.isEmpty()) {
      err().println(spec.qualifiedName() + ": --key is for an alloc by count; --vpid names its pids itself");
      return 2;
    }
    ApiClient.Answer answer = vpids.isEmpty()
        ? keyed(api, "/v1/spaces/" + space + "/pids?count=" + count, key != null ? key : UUID.randomUUID().toString())
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

  /** The alloc with its key, asked again with the same key while its outcome is unknown. */
  private ApiClient.Answer keyed(ApiClient api, String path, String key) throws ApiClient.NoAnswer {
    long backoff = FIRST_BACKOFF_MILLIS;
    for (int attempt = 0; ; attempt++) {
      String unknown;
      try {
        ApiClient.Answer answer = api.postKeyed(path, key);
        if (answer.status() != 503 || attempt == RETRIES) {
          return answer;
        }
        unknown = answer.error();
      } catch (ApiClient.NoAnswer e) {
        if (!e.retryable || attempt == RETRIES) {
          throw e;
        }
        unknown = e.getMessage();
      }
      err().println(spec.qualifiedName() + ": " + unknown + "; asking again with the same key in " + backoff + " ms");
      try {
        Thread.sleep(backoff);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new ApiClient.NoAnswer("interrupted while retrying");
      }
      backoff *= 2;
    }
  }
}
