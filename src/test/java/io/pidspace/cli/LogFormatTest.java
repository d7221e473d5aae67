package io.pidspace.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

/**
 * The logback configs the commands ship, each in a logger context of its own: JSON lines with
 * PIDSPACE_LOG_FORMAT=json (logstash-logback-encoder on the Jackson Akka pins), and the node's
 * lifecycle at INFO under the default WARN.
 */
class LogFormatTest {

  /** What the config writes to stderr for a node lifecycle line, an INFO elsewhere, and a warning with a stack trace. */
  private static List<String> logged(String config) throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    LoggerContext context = new LoggerContext();
    LogbackMDCAdapter mdc = new LogbackMDCAdapter();
    context.setMDCAdapter(mdc);
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      JoranConfigurator configurator = new JoranConfigurator();
      configurator.setContext(context);
      configurator.doConfigure(LogFormatTest.class.getClassLoader().getResource(config));
      Logger node = context.getLogger("io.pidspace.node");
      mdc.put("akkaSource", "akka://pidspace/user");
      node.info("node {} joined the cluster", "akka://pidspace@127.0.0.1:25520");
      mdc.clear();
      context.getLogger("io.pidspace.space.PidSpace").info("not shown at the default level");
      context.getLogger("io.pidspace.space.PidSpace").warn("a \"quoted\" warning", new IllegalStateException("why"));
    } finally {
      context.stop();
      System.setErr(stderr);
    }
    return captured.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void json_oneObjectPerLine() throws Exception {
    List<String> lines = logged("pidspace-logback-json.xml");
    assertEquals(2, lines.size(), String.join("\n", lines));
    ObjectMapper json = new ObjectMapper();
    JsonNode joined = json.readTree(lines.get(0));
    assertEquals("INFO", joined.get("level").asText());
    assertEquals("io.pidspace.node", joined.get("logger_name").asText());
    assertEquals("node akka://pidspace@127.0.0.1:25520 joined the cluster", joined.get("message").asText());
    assertEquals("akka://pidspace/user", joined.get("akkaSource").asText(), "the MDC Akka sets");
    assertTrue(joined.has("@timestamp"));
    JsonNode warning = json.readTree(lines.get(1));
    assertEquals("a \"quoted\" warning", warning.get("message").asText());
    assertTrue(warning.get("stack_trace").asText().startsWith("java.lang.IllegalStateException: why"));
  }

  @Test
  void text_nodeLifecycleAtInfo() throws Exception {
    List<String> lines = logged("pidspace-logback.xml");
    assertEquals("java.lang.IllegalStateException: why", lines.get(2), "the INFO of another logger is not shown");
    assertTrue(lines.get(0).matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  io.pidspace.node - node akka://pidspace@127.0.0.1:25520 joined the cluster"),
        lines.get(0));
    assertTrue(lines.get(1).contains("WARN  i.p.space.PidSpace - a \"quoted\" warning"), lines.get(1));
  }
}
