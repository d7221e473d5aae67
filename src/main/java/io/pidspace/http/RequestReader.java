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
import java.util.ArrayList;
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
 * what the request sent: it names the field and the rule it broke. A string is read only where
 * the request takes one, and only after its length is checked; an object only where the request
 * declares one, with its own fields, so the depth is the request's own.
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

  enum Kind { NUMBER, NUMBERS, TEXT, BOOLEAN, OBJECT, OBJECTS }

  /**
   * A field a body may hold: a whole number, an array of at most {@code maxItems} of them, a
   * string of at most {@code maxItems} characters, an object with {@code fields}, or an array of
   * at most {@code maxItems} such objects.
   */
  record Field(String name, Kind kind, int maxItems, List<Field> fields) {
    static Field number(String name) {
      return new Field(name, Kind.NUMBER, 1, List.of());
    }

    static Field numbers(String name, int maxItems) {
      return new Field(name, Kind.NUMBERS, maxItems, List.of());
    }

    static Field text(String name, int maxLength) {
      return new Field(name, Kind.TEXT, maxLength, List.of());
    }

    static Field bool(String name) {
      return new Field(name, Kind.BOOLEAN, 1, List.of());
    }

    static Field object(String name, List<Field> fields) {
      return new Field(name, Kind.OBJECT, 1, fields);
    }

    static Field objects(String name, int maxItems, List<Field> fields) {
      return new Field(name, Kind.OBJECTS, maxItems, fields);
    }
  }

  /** What a body held; a field that was absent or {@code null} is not in it. */
  record Body(Map<String, Long> numbers, Map<String, long[]> arrays, Map<String, String> texts,
      Map<String, Body> objects, Map<String, List<Body>> objectArrays) {
    /** A boolean field, stored among the texts as "true" or "false". */
    boolean flag(String name) {
      return "true".equals(texts.get(name));
    }

    Long number(String name) {
      return numbers.get(name);
    }

    long[] numbers(String name) {
      return arrays.get(name);
    }

    String text(String name) {
      return texts.get(name);
    }

    Body object(String name) {
      return objects.get(name);
    }

    List<Body> objects(String name) {
      return objectArrays.get(name);
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

  /** One body being read: the parser and the first number that was too large. */
  private static final class Reading {
    private final JsonParser parser;
    private final List<Field> fields;
    private String tooLarge;

    Reading(JsonParser parser, List<Field> fields) {
      this.parser = parser;
      this.fields = fields;
    }

    Body object() throws IOException {
      JsonToken token = parser.nextToken();
      if (token == null) {
        return new Body(Map.of(), Map.of(), Map.of(), Map.of(), Map.of());
      }
      if (token != JsonToken.START_OBJECT) {
        throw PidspaceException.badRequest("the body must be a JSON object");
      }
      Body body = fields(fields, "");
      if (parser.nextToken() != null) {
        throw PidspaceException.badRequest("the body must be one JSON object with nothing after it");
      }
      if (tooLarge != null) {
        throw tooLarge(tooLarge);
      }
      return body;
    }

    /** The fields of the object whose start was just read, up to its end. */
    private Body fields(List<Field> fields, String prefix) throws IOException {
      Body body = new Body(new HashMap<>(), new HashMap<>(), new HashMap<>(), new HashMap<>(), new HashMap<>());
      Set<String> seen = new HashSet<>();
      // inside an object the parser yields only field names and the object's end
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        Field field = field(fields, seen, parser.getCurrentName(), prefix);
        String name = prefix + field.name();
        JsonToken token = parser.nextToken();
        if (token == JsonToken.VALUE_NULL) {
          continue;
        }
        switch (field.kind()) {
          case NUMBER -> {
            Long value = whole(token, name);
            if (value != null) {
              body.numbers().put(field.name(), value);
            }
          }
          case NUMBERS -> {
            if (token != JsonToken.START_ARRAY) {
              throw PidspaceException.badRequest(name + " must be an array of whole numbers");
            }
            body.arrays().put(field.name(), array(field, name));
          }
          case TEXT -> {
            if (token != JsonToken.VALUE_STRING) {
              throw PidspaceException.badRequest(name + " must be a string");
            }
            if (parser.getTextLength() > field.maxItems()) {
              throw PidspaceException.badRequest(name + " must be at most " + field.maxItems() + " characters");
            }
            body.texts().put(field.name(), parser.getText());
          }
          case BOOLEAN -> {
            if (token != JsonToken.VALUE_TRUE && token != JsonToken.VALUE_FALSE) {
              throw PidspaceException.badRequest(name + " must be true or false");
            }
            body.texts().put(field.name(), Boolean.toString(token == JsonToken.VALUE_TRUE));
          }
          case OBJECT -> {
            if (token != JsonToken.START_OBJECT) {
              throw PidspaceException.badRequest(name + " must be an object");
            }
            body.objects().put(field.name(), fields(field.fields(), name + "."));
          }
          case OBJECTS -> {
            if (token != JsonToken.START_ARRAY) {
              throw PidspaceException.badRequest(name + " must be an array of objects");
            }
            List<Body> items = new ArrayList<>();
            for (token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
              if (items.size() == field.maxItems()) {
                throw PidspaceException.badRequest(name + " may hold at most " + field.maxItems() + " items");
              }
              if (token != JsonToken.START_OBJECT) {
                throw PidspaceException.badRequest(name + " must be an array of objects");
              }
              items.add(fields(field.fields(), name + "[" + items.size() + "]."));
            }
            body.objectArrays().put(field.name(), items);
          }
          default -> throw new IllegalStateException("unknown field kind");
        }
      }
      return body;
    }

    private static Field field(List<Field> fields, Set<String> seen, String name, String prefix) {
      for (Field field : fields) {
        if (field.name().equals(name)) {
          if (!seen.add(name)) {
            throw PidspaceException.badRequest("field " + prefix + name + " appears more than once");
          }
          return field;
        }
      }
      throw PidspaceException.badRequest("unknown field" + (prefix.isEmpty() ? "" : " in " + prefix.substring(0, prefix.length() - 1))
          + "; this request takes " + fields.stream().map(Field::name).toList());
    }

    private long[] array(Field field, String name) throws IOException {
      LongStream.Builder values = LongStream.builder();
      int count = 0;
      for (JsonToken token = parser.nextToken(); token != JsonToken.END_ARRAY; token = parser.nextToken()) {
        if (count == field.maxItems()) {
          throw ApiError.tooManyPids(field.maxItems());
        }
        Long value = whole(token, name + "[" + count + "]");
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
