package io.pidspace.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/** A small client of a node's JSON HTTP API (docs/http.md) on the JDK's HttpClient. */
final class ApiClient {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** What the node answered: its status and its body, empty for 204. */
  record Answer(int status, String body) {

    boolean ok() {
      return status >= 200 && status < 300;
    }

    JsonNode json() {
      try {
        return JSON.readTree(body);
      } catch (JsonProcessingException e) {
        return JSON.missingNode();
      }
    }

    /** The server's message and stable code, or what came back when it was not the API's JSON. */
    String error() {
      JsonNode json = json();
      if (json.hasNonNull("error") && json.hasNonNull("message")) {
        return json.get("message").asText() + " (" + json.get("error").asText() + ")";
      }
      String text = body.strip();
      return "HTTP " + status + (text.isEmpty() ? "" : ": " + (text.length() > 200 ? text.substring(0, 200) + "…" : text));
    }
  }

  /** The node gave no answer at all: it cannot be reached, it was too slow, or the URL is wrong. */
  static final class NoAnswer extends Exception {
    /** Whether asking again may help: the node was unreachable or slow, not the URL wrong. */
    final boolean retryable;

    NoAnswer(String message) {
      this(message, false);
    }

    NoAnswer(String message, boolean retryable) {
      super(message);
      this.retryable = retryable;
    }
  }

  private final HttpClient http;
  private final String base;
  private final String token;
  private final Duration timeout;

  /** @param token sent as a bearer token when not empty */
  ApiClient(String url, String token, Duration timeout) {
    this.base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    this.token = token == null ? "" : token;
    this.timeout = timeout;
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  Answer get(String path) throws NoAnswer {
    return send("GET", path, null, null);
  }

  Answer post(String path, String json) throws NoAnswer {
    return send("POST", path, json, null);
  }

  /** A POST without a body that carries {@code Idempotency-Key: key}. */
  Answer postKeyed(String path, String key) throws NoAnswer {
    return send("POST", path, null, key);
  }

  Answer patch(String path, String json) throws NoAnswer {
    return send("PATCH", path, json, null);
  }

  Answer delete(String path) throws NoAnswer {
    return send("DELETE", path, null, null);
  }

  private Answer send(String method, String path, String json, String key) throws NoAnswer {
    HttpRequest.Builder request;
    try {
      request = HttpRequest.newBuilder(URI.create(base + path));
    } catch (IllegalArgumentException e) {
      throw new NoAnswer("'" + base + "' is not a usable --url: " + e.getMessage());
    }
    request.timeout(timeout).method(method, json == null ? BodyPublishers.noBody() : BodyPublishers.ofString(json));
    if (json != null) {
      request.header("Content-Type", "application/json");
    }
    if (key != null) {
      request.header("Idempotency-Key", key);
    }
    if (!token.isEmpty()) {
      request.header("Authorization", "Bearer " + token);
    }
    try {
      var response = http.send(request.build(), BodyHandlers.ofString());
      return new Answer(response.statusCode(), response.body());
    } catch (HttpTimeoutException e) {
      throw new NoAnswer("no answer from the pidspace node at " + base + " within " + timeout.toSeconds() + " s", true);
    } catch (ConnectException e) {
      // the JDK's ConnectException carries no message
      throw new NoAnswer("cannot connect to a pidspace node at " + base + "; is `pidspace node` running there?", true);
    } catch (IOException e) {
      throw new NoAnswer("no answer from the pidspace node at " + base + ": " + e, true);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NoAnswer("interrupted while waiting for " + base);
    }
  }
}
