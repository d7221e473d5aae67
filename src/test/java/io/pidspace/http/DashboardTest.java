package io.pidspace.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pidspace.testkit.HeadlessChromium;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dashboard of a real node in Debian's headless Chromium: the page and its assets come from
 * the node alone, it draws one heatmap cell per space, and a space the test filled shows its
 * percentage in the legend's colour for that percentage.
 */
class DashboardTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern CELL = Pattern.compile("<span ([^>]*data-space=\"[^>]*)>(.*?)</span>");
  private static final Pattern LEGEND = Pattern.compile(
      "<span class=\"entry\" data-from=\"(\\d+)\" data-to=\"(\\d+)\"><span class=\"swatch\" style=\"([^\"]*)\">");

  private static TestNode node;

  @BeforeAll
  static void start() throws Exception {
    node = new TestNode();
  }

  @AfterAll
  static void stop() {
    node.close();
  }

  @Test
  void dashboard_drawsACellPerSpaceAndAFilledSpaceInItsLegendColour() throws Exception {
    assertEquals(201, node.send("POST", "/v1/spaces", "{\"id\": 300, \"pidMax\": 1000}").statusCode());
    assertEquals(201, node.send("POST", "/v1/spaces", "{\"id\": 5, \"pidMax\": 2000}").statusCode());
    assertEquals(200, node.send("POST", "/v1/spaces/300/pids?count=800", "").statusCode()); // 80 %
    assertEquals(200, node.send("POST", "/v1/spaces/5/pids?count=100", "").statusCode());  // 5 %

    String dom = HeadlessChromium.dumpDom(URI.create(node.api + "/dashboard"), 5000);

    Map<String, String> cells = new HashMap<>(); // space -> its attributes
    Map<String, String> texts = new HashMap<>();
    Matcher m = CELL.matcher(dom);
    while (m.find()) {
      String space = attribute(m.group(1), "data-space");
      assertNotNull(space, m.group());
      assertEquals(null, cells.put(space, m.group(1)), "two cells for space " + space);
      texts.put(space, m.group(2).replaceAll("<[^>]*>", " ").replaceAll("\\s+", " ").trim());
    }
    Set<String> listed = new TreeSet<>();
    JSON.readTree(node.send("GET", "/v1/spaces", null).body()).get("spaces")
        .forEach(s -> listed.add(s.get("id").asText()));
    assertEquals(listed, new TreeSet<>(cells.keySet()), dom);

    Map<Integer, String> legend = new HashMap<>(); // lower bound of a bin -> its swatch's style
    Matcher l = LEGEND.matcher(dom);
    while (l.find()) {
      legend.put(Integer.parseInt(l.group(1)), l.group(3));
    }
    assertEquals(Set.of(0, 25, 50, 75, 90), legend.keySet(), dom);

    assertEquals("80", attribute(cells.get("300"), "data-used"));
    assertEquals("300 80%", texts.get("300"));
    assertEquals(legend.get(75), attribute(cells.get("300"), "style"));
    assertEquals("5", attribute(cells.get("5"), "data-used"));
    assertEquals(legend.get(0), attribute(cells.get("5"), "style"));
    assertFalse(legend.get(0).equals(legend.get(75)));
    assertTrue(dom.contains("id=\"status\" class=\"\">updated "), "the page did not draw an answer");
  }

  /** Offline: every asset comes from the node, and none names another host. */
  @Test
  void dashboard_needsNothingButTheNode() throws Exception {
    HttpResponse<String> page = node.send("GET", "/dashboard", null);
    assertEquals(200, page.statusCode());
    assertTrue(page.headers().firstValue("Content-Type").orElseThrow().startsWith("text/html"));
    Matcher refs = Pattern.compile("(?:src|href)=\"([^\"]*)\"").matcher(page.body());
    int assets = 0;
    while (refs.find()) {
      assets++;
      assertTrue(refs.group(1).startsWith("/dashboard/"), refs.group(1));
      HttpResponse<String> asset = node.send("GET", refs.group(1), null);
      assertEquals(200, asset.statusCode(), refs.group(1));
      // the SVG namespace is a name, never fetched; a URL with a scheme or "//host" would be
      String text = asset.body().replace("http://www.w3.org/2000/svg", "");
      for (String url : new String[] {"http:", "https:", "\"//", "'//", "(//", "@import"}) {
        assertFalse(text.contains(url), refs.group(1) + " names another host: " + url);
      }
    }
    assertEquals(2, assets);
    JsonNode data = JSON.readTree(node.send("GET", "/dashboard/data", null).body());
    assertEquals(node.authority.layout().maxSpaces(), data.get("maxSpaces").asInt());
    assertEquals(data.get("latencyBounds").size() + 1, data.get("latencyCounts").size());
    assertEquals(404, node.send("GET", "/dashboard/../application.conf", null).statusCode());
  }

  private static String attribute(String attributes, String name) {
    Matcher m = Pattern.compile("\\b" + name + "=\"([^\"]*)\"").matcher(attributes);
    return m.find() ? m.group(1) : null;
  }
}
