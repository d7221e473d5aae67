package io.pidspace.http;

import akka.util.ByteString;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.pidspace.core.PidspaceException;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.LongStream;

/**
 * Reads path segments, query parameters and JSON bodies strictly: a wrong type, a fraction, a
 * quoted number, an unknown or repeated field or malformed JSON is a {@code bad-request}, and a
 * number too large for a long is {@code out-of-range}. Ranges are the caller's to check.
 *
 * <p>A body is read token by token against the fields the request takes, and refused at the
 * first token that does not fit (Jackson 2.13 has no read limits of its own). So nothing deeper
 * than the request's own shape is ever read, no string value is ever read at all, no number is
 * converted before its length is checked and no array grows past its limit. No message repeats
 * what the request sent: it names the field and the rule it broke.
 */
final class RequestReader {

  /** {@code -9223372036854775808} is the longest whole number a long holds. */
  static final int MAX_NUMBER_LENGTH = 20;

  private static final JsonFactory JSON = JsonFactory.builder()
      // field names a client makes up stay out of the shared symbol table
      .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
      .disable(StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION)
      .build();

  private RequestReader() {}

  /** A field a body may hold: a whole number, or an array of at most {@code maxItems} of them. */
  record Field(String name, boolean array, int maxItems) {
    static Field number(String name) {
      return new Field(name, false, 1);
    }

    static Field numbers(String name, int maxItems) {
      return new Field(name, true, maxItems);
    }
  }

  /** What a body held; a field that was absent or {@code null} is not in it. */
  record Body(Map<String, Long> numbers, Map<String, long[]> arrays) {
    Long number(String name) {
      return numbers.get(name);
    }

    long[] numbers(String name) {
      return arrays.get(name);
    }
  }

  /** A whole number written in a path segment or a query parameter called {@code name}. */
  static long integer(String text, String name) {
    if (!isWholeNumber(text)) {
      throw PidspaceException.badRequest(name + " must be a whole number");
    }
    if (text.length() > MAX_NUMBER_LENGTH) {
      throw tooLarge(name);
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException tooLong) {
      throw tooLarge(name);
    }
  }

  private static boolean isWholeNumber(String text) {
    int start = text.startsWith("-") ? 1 : 0;
    if (text.length() == start) {
      return false;
    }
    for (int i = start; i < text.length(); i++) {
      if (text.charAt(i) < '0' || text.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * A body that is one JSON object with no fields but {@code fields}; an empty body reads as
   * {@code {}}, a field given as {@code null} as absent. A malformed body is {@code bad-request}
   * even where it also holds a number too large, so {@code out-of-range} waits for the end.
   *
   * @throws ApiError {@code too-many-pids} for an array past its field's {@code maxItems}
   */
  static Body object(ByteString body, List<Field> fields) {
    try (JsonParser parser = JSON.createParser(body.toArray())) {
      return new Reading(parser, fields).object();
    } catch (JsonProcessingException e) {
      // the location only: Jackson's own message quotes the body
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      throw PidspaceException.badRequest("malformed JSON" + where);
    } catch (IOException e) {
      throw PidspaceException.badRequest("the body is not JSON in UTF-8");
    }
  }

  /** One body being read: the parser, what it held so far, the first number that was too large. */
  private static final class Reading {
    private final JsonParser parser;
    private final List<Field> fields;
    private final Map<String, Long> numbers = new HashMap<>();
    private final Map<String, long[]> arrays = new HashMap<>();
    private final Set<String> seen = new HashSet<>();
    private String tooLarge;

    Reading(JsonParser parser, List<Field> fields) {
      this.parser = parser;
      this.fields = fields;
    }

    Body object() throws IOException {
      JsonToken token = parser.nextToken();
      if (token == null) {
        return new Body(Map.of(), Map.of());
      }
      if (token != JsonToken.START_OBJECT) {
        throw PidspaceException.badRequest("the body must be a JSON object");
      }
      // inside an object the parser yields only field names and the object's end
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        Field field = field(parser.getCurrentName());
        token = parser.nextToken();
        if (token == JsonToken.VALUE_NULL) {
          continue;
        }
        if (!field.array()) {
          Long value = whole(token, field.name());
          if (value != null) {
            numbers.put(field.name(), value);
          }
        } else if (token == JsonToken.START_ARRAY) {
          arrays.put(field.name(), array(field));
        } else {
          throw PidspaceException.badRequest(field.name() + " must be an array of whole numbers");
        }
      }
      if (parser.nextToken() != null) {
        throw PidspaceException.badRequest("the body must be one JSON object with nothing after it");
      }
      if (tooLarge != null) {
        throw tooLarge(tooLarge);
      }
      return new Body(numbers, arrays);
    }

    private Field field(String name) {
      for (Field field : fields) {
        if (field.name().equals(name)) {
          if (!seen.add(name)) {
            throw PidspaceException.badRequest("field " + name + " appears more than once");
          }
          return field;
        }
      }
      throw PidspaceException.badRequest("unknown field; this request takes "
          + fields.stream().map(Field::name).toList());
    }

    private long[] array(Field field) throws IOException {
      LongStream.Builder values = LongStream.builder();
      int count = 0;
      for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
        if (count == field.maxItems()) {
          throw ApiError.tooManyPids(field.maxItems());
        }
        Long value = whole(token, field.name() + "[" + count + "]");
        if (value != null) {
          values.add(value);
        }
        count++;
      }
      return values.build().toArray();
    }

    /** The whole number at {@code token}, or null when it is too large (refused once the body is read). */
    private Long whole(JsonToken token, String name) throws IOException {
      if (token != JsonToken.VALUE_NUMBER_INT) {
        throw PidspaceException.badRequest(name + " must be a whole number");
      }
      // the length first: converting a number of a million digits takes seconds
      if (parser.getTextLength() <= MAX_NUMBER_LENGTH) {
        try {
          return Long.parseLong(parser.getText());
        } catch (NumberFormatException beyondLong) {
          // refused below, as any number too long
        }
      }
      if (tooLarge == null) {
        tooLarge = name;
      }
      return null;
    }
  }

  private static PidspaceException tooLarge(String name) {
    return PidspaceException.outOfRange(name + " is too large for a 64-bit whole number");
  }
}
