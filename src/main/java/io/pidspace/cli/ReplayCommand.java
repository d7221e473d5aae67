package io.pidspace.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description = {
      "Reads trace commands on stdin and answers one line per command, in order, through the real "
          + "registry, router and spaces (DESIGN.md §6).",
      "",
      "  pid-max N          only before any other command; answers ok",
      "  space-create [ID]  answers the new space id",
      "  space-destroy ID   answers ok",
      "  alloc ID           answers the global pid, or -1 when the space is full",
      "  free PID           PID is global; answers ok",
      "",
      "Blank lines and # comments get no answer. A refusal answers 'error: CODE: message' and changes nothing."
    })
final class ReplayCommand implements Callable<Integer> {

  @Option(names = "--shift", description = "Bits of vpid in a global pid (default: ${DEFAULT-VALUE}).", defaultValue = "22")
  int shift;

  @Option(names = "--persistence", description = "none (memory only) or jdbc (a journal; see --data-dir). "
      + "Default: pidspace.persistence of the config, none unless -Dconfig.file says otherwise.")
  String persistence;

  @Option(names = "--data-dir", description = "Directory of the H2 journal with --persistence jdbc. Default: ./data.")
  Path dataDir;

  @Option(names = "--cluster", description = "Run the spaces in a one-node cluster (sharding, the registry a "
      + "cluster singleton) rather than as plain local actors, which start about a second sooner.")
  boolean cluster;

  @Override
  public Integer call() throws Exception {
    Map<String, Object> options = new HashMap<>(Map.of("pidspace.shift", shift));
    if (!cluster) {
      options.put("akka.actor.provider", "local");
    }
    if (persistence != null) {
      options.put("pidspace.persistence", persistence);
    }
    if (dataDir != null) {
      options.put("pidspace.data-dir", dataDir.toAbsolutePath().toString());
    }
    Config config = ConfigFactory.parseMap(options);
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8), 1 << 16);
    Writer out = new BufferedWriter(
        new OutputStreamWriter(new FileOutputStream(FileDescriptor.out), StandardCharsets.UTF_8), 1 << 16);
    try {
      new Replay(config).run(in, out);
      return 0;
    } catch (Replay.CannotStart e) {
      System.err.println("pidspace replay: " + e.getMessage());
      return 1;
    }
  }
}
