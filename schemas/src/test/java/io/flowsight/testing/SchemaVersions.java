package io.flowsight.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.Iterator;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Other versions of the project's schemas, as an older or a newer producer would have them, and
 * records written with them in the Confluent wire format: for schema-evolution tests.
 */
public final class SchemaVersions {

  private static final ObjectMapper JSON = new ObjectMapper();

  private SchemaVersions() {}

  /**
   * {@code schema} as it was before its enums got the {@code UNKNOWN} symbol and before its field
   * {@code removedField} (optional, with a default) was added.
   */
  public static Schema older(Schema schema, String removedField) {
    ObjectNode root = tree(schema);
    forEachEnum(
        root,
        e -> {
          ArrayNode symbols = (ArrayNode) e.get("symbols");
          for (int i = symbols.size() - 1; i >= 0; i--) {
            if (symbols.get(i).asText().equals("UNKNOWN")) {
              symbols.remove(i);
            }
          }
          e.remove("default");
        });
    removeField(root, removedField);
    return parse(root);
  }

  /**
   * {@code schema} as it was before its field {@code addedField} (optional, with a default, the
   * last one added) existed, with nothing else changed: the previous version's exact writer schema.
   */
  public static Schema without(Schema schema, String addedField) {
    ObjectNode root = tree(schema);
    removeField(root, addedField);
    return parse(root);
  }

  /**
   * Removes a field of the record. A named type the field defined (the first use defines it, later
   * ones name it) moves to the next field that names it, as the schema would have been written
   * without the field.
   */
  private static void removeField(ObjectNode root, String name) {
    ArrayNode fields = (ArrayNode) root.get("fields");
    for (int i = 0; i < fields.size(); i++) {
      if (!fields.get(i).get("name").asText().equals(name)) {
        continue;
      }
      JsonNode removed = fields.remove(i);
      java.util.List<ObjectNode> definitions = new java.util.ArrayList<>();
      namedDefinitions(removed.get("type"), definitions);
      for (ObjectNode definition : definitions) {
        String simple = definition.get("name").asText();
        String full =
            definition.has("namespace")
                ? definition.get("namespace").asText() + "." + simple
                : null;
        for (int j = i; j < fields.size(); j++) {
          if (replaceFirstReference((ObjectNode) fields.get(j), "type", simple, full, definition)) {
            break;
          }
        }
      }
      return;
    }
    throw new IllegalArgumentException(root.get("name").asText() + " has no field " + name);
  }

  private static void namedDefinitions(JsonNode type, java.util.List<ObjectNode> out) {
    if (type instanceof ObjectNode o && o.has("name") && o.has("type")) {
      String kind = o.get("type").asText();
      if (kind.equals("record") || kind.equals("enum") || kind.equals("fixed")) {
        out.add(o);
      }
    }
    if (type != null && type.isContainerNode()) {
      for (Iterator<JsonNode> it = type.elements(); it.hasNext(); ) {
        namedDefinitions(it.next(), out);
      }
    }
  }

  /** Replaces the first reference by name below {@code parent.key} with {@code definition}. */
  private static boolean replaceFirstReference(
      JsonNode parent, String key, String simple, String full, ObjectNode definition) {
    JsonNode node = parent instanceof ArrayNode a ? a.get(Integer.parseInt(key)) : parent.get(key);
    if (node == null) {
      return false;
    }
    if (node.isTextual() && (node.asText().equals(simple) || node.asText().equals(full))) {
      if (parent instanceof ArrayNode a) {
        a.set(Integer.parseInt(key), definition);
      } else {
        ((ObjectNode) parent).set(key, definition);
      }
      return true;
    }
    if (node instanceof ArrayNode array) {
      for (int k = 0; k < array.size(); k++) {
        if (replaceFirstReference(array, String.valueOf(k), simple, full, definition)) {
          return true;
        }
      }
    } else if (node instanceof ObjectNode object) {
      for (String child : java.util.List.of("type", "items", "values")) {
        if (object.has(child) && replaceFirstReference(object, child, simple, full, definition)) {
          return true;
        }
      }
      if (object.has("fields")) {
        ArrayNode nested = (ArrayNode) object.get("fields");
        for (int k = 0; k < nested.size(); k++) {
          if (replaceFirstReference(nested.get(k), "type", simple, full, definition)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /**
   * {@code schema} as a later version: enum {@code enumName} has one more symbol {@code
   * addedSymbol} (at the end), and the record has one more field {@code addedField}, a long with
   * the default 0.
   */
  public static Schema newer(
      Schema schema, String enumName, String addedSymbol, String addedField) {
    ObjectNode root = tree(schema);
    forEachEnum(
        root,
        e -> {
          if (e.get("name").asText().equals(enumName)) {
            ((ArrayNode) e.get("symbols")).add(addedSymbol);
          }
        });
    ObjectNode field = JSON.createObjectNode();
    field.put("name", addedField).put("type", "long").put("default", 0L);
    field.put("doc", "a field a later version added");
    ((ArrayNode) root.get("fields")).add(field);
    return parse(root);
  }

  /** {@code record} (of the current schema) as a generic record of {@code version}. */
  public static GenericRecord convert(SpecificRecord record, Schema version) {
    byte[] current = avro(record.getSchema(), record);
    try {
      // Reading with the other version as reader resolves by field name and symbol.
      return new GenericDatumReader<GenericRecord>(record.getSchema(), version)
          .read(null, DecoderFactory.get().binaryDecoder(current, null));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A symbol of enum {@code schema} (which may not exist in the generated class). */
  public static GenericData.EnumSymbol symbol(Schema record, String field, String symbol) {
    return new GenericData.EnumSymbol(record.getField(field).schema(), symbol);
  }

  /** {@code datum} in the Confluent wire format: magic byte 0, the id (big-endian), the body. */
  public static byte[] wire(int schemaId, Schema schema, Object datum) {
    byte[] body = avro(schema, datum);
    return ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(schemaId).put(body).array();
  }

  /** The Avro binary encoding of {@code datum}. */
  public static byte[] avro(Schema schema, Object datum) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      if (datum instanceof SpecificRecord) {
        new SpecificDatumWriter<Object>(schema).write(datum, encoder);
      } else {
        new GenericDatumWriter<Object>(schema).write(datum, encoder);
      }
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  private static ObjectNode tree(Schema schema) {
    try {
      return (ObjectNode) JSON.readTree(schema.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Schema parse(JsonNode root) {
    return new Schema.Parser().parse(root.toString());
  }

  private static void forEachEnum(JsonNode node, java.util.function.Consumer<ObjectNode> action) {
    if (node instanceof ObjectNode o && "enum".equals(o.path("type").asText())) {
      action.accept(o);
      return;
    }
    if (node.isContainerNode()) {
      for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
        forEachEnum(it.next(), action);
      }
    }
  }
}
