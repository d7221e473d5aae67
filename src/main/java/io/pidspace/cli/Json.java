package io.pidspace.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.RawValue;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Request bodies of the client commands, all written by Jackson (never by string concatenation of
 * user input); only a document to import goes as it is ({@link #raw}), for the node to check.
 */
final class Json {

  private static final ObjectMapper JSON = new ObjectMapper();

  private Json() {}

  /** An object of name/value pairs; a null value leaves its field out. */
  static String object(Object... namesAndValues) {
    Map<String, Object> fields = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if (namesAndValues[i + 1] != null) {
        fields.put((String) namesAndValues[i], namesAndValues[i + 1]);
      }
    }
    try {
      return JSON.writeValueAsString(fields);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A value written as it is: JSON the node is to check, not this client. */
  static RawValue raw(String json) {
    return new RawValue(json);
  }
}
