package io.pidspace.storm;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * {@code --report FILE.html}: one self-contained page with the summary and charts drawn by
 * Chart.js, whose code is inlined from its WebJar so that the page needs no network.
 */
public final class HtmlReport {

  private static final String CHART_JS_WEBJAR = "META-INF/resources/webjars/chart.js/";
  private static final String CHART_JS_POM = "META-INF/maven/org.webjars.npm/chart.js/pom.properties";

  private HtmlReport() {}

  public static String of(StormReport report) {
    // replace() takes the text literally; Chart.js goes in last so nothing is looked for inside it
    return resource("io/pidspace/storm/report.html")
        .replace("/*REPORT_JSON*/", report.toJson(false).replace("</", "<\\/"))
        .replace("<!--SUMMARY-->", escape(Summary.of(report)))
        .replace("/*CHART_JS*/", chartJs());
  }

  private static String chartJs() {
    Properties pom = new Properties();
    try (InputStream in = open(CHART_JS_POM)) {
      pom.load(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return resource(CHART_JS_WEBJAR + pom.getProperty("version") + "/dist/chart.umd.min.js");
  }

  private static String resource(String name) {
    try (InputStream in = open(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static InputStream open(String name) {
    InputStream in = HtmlReport.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new IllegalStateException(name + " is not on the classpath (the build is incomplete)");
    }
    return in;
  }

  private static String escape(String text) {
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
