package io.pidspace.http;

import akka.util.ByteString;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.pidspace.core.PidspaceException;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Reads path segments, query parameters and JSON bodies strictly: a wrong type, a fraction, a
 * quoted number, an unknown field or malformed JSON is a {@code bad-request} that names the value,
 * and a number too large for a long is {@code out-of-range}. Ranges are the caller's to check.
 */
final class RequestReader {

  private static final Pattern WHOLE_NUMBER = Pattern.compile("-?[0-9]+");

  private static final ObjectMapper MAPPER = JsonMapper.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      // an error names the line and column, without echoing the body back
      .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .build();

  private RequestReader() {}

  /** A whole number written in a path segment or a query parameter called {@code name}. */
  static long integer(String text, String name) {
    if (!WHOLE_NUMBER.matcher(text).matches()) {
      throw PidspaceException.badRequest(name + " must be a whole number, not '" + text + "'");
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException tooLong) {
      throw PidspaceException.outOfRange(name + " " + text + " is too large");
    }
  }

  /** A whole number in a JSON body; {@code name} says where it was. */
  static long integer(JsonNode value, String name) {
    if (!value.isIntegralNumber()) {
      throw PidspaceException.badRequest(name + " must be a whole number, not " + value);
    }
    if (!value.canConvertToLong()) {
      throw PidspaceException.outOfRange(name + " " + value + " is too large");
    }
    return value.longValue();
  }

  /**
   * A body that is one JSON object with no fields but {@code fields}; an empty body reads as
   * {@code {}}. A field given as {@code null} counts as absent.
   */
  static JsonNode object(ByteString body, List<String> fields) {
    JsonNode json;
    try {
      json = MAPPER.readTree(body.toArray());
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      throw PidspaceException.badRequest("malformed JSON" + where + ": " + e.getOriginalMessage());
    } catch (IOException e) {
      throw PidspaceException.badRequest("unreadable body: " + e.getMessage());
    }
    if (json.isMissingNode()) {
      return MAPPER.createObjectNode();
    }
    if (!json.isObject()) {
      throw PidspaceException.badRequest("the body must be a JSON object, not " + json.getNodeType().name().toLowerCase());
    }
    for (Iterator<String> names = json.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!fields.contains(name)) {
        throw PidspaceException.badRequest("unknown field '" + name + "'; this request takes " + fields);
      }
    }
    return json;
  }

  /** The field {@code name} of {@code object}, or null when it is absent or {@code null}. */
  static JsonNode field(JsonNode object, String name) {
    JsonNode value = object.get(name);
    return value == null || value.isNull() ? null : value;
  }
}
