package io.flowsight.schemas.serde;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flowsight.schemas.serde.SerdeException.Reason;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small client for the Confluent Schema Registry REST API (which Apicurio Registry also serves at
 * {@code /apis/ccompat/v7}). Every answer is cached: a schema costs at most three HTTP calls the
 * first time it is seen (look up, set compatibility on a new subject, register) and none after, so
 * serializing a record never touches the network.
 */
public final class SchemaRegistryClient implements WriterSchemas {

  /** The compatibility level the client sets on the subjects it creates. */
  public static final String SUBJECT_COMPATIBILITY = "BACKWARD";

  private static final Logger log = LoggerFactory.getLogger(SchemaRegistryClient.class);
  private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Error codes of the Confluent API (the "error_code" field of an error answer). */
  private static final int SUBJECT_NOT_FOUND = 40401;

  private final RegistrySerdeConfig config;
  private final HttpClient http;
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
  private final Map<SubjectSchema, Integer> idsBySubjectSchema = new ConcurrentHashMap<>();

  private record SubjectSchema(String subject, Schema schema) {}

  public SchemaRegistryClient(RegistrySerdeConfig config) {
    this.config = config;
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(config.requestTimeout());
    if (config.transport().sslContext() != null) {
      builder.sslContext(config.transport().sslContext());
    }
    this.http = builder.build();
  }

  public RegistrySerdeConfig config() {
    return config;
  }

  /**
   * The id of {@code schema} under {@code subject}: looked up, or registered when the subject does
   * not have it and auto-registration is on. A subject this call creates gets {@value
   * #SUBJECT_COMPATIBILITY} compatibility.
   *
   * @throws SerdeException {@link Reason#INCOMPATIBLE_SCHEMA} when the registry refuses the schema,
   *     {@link Reason#SCHEMA_NOT_REGISTERED} when it is missing and auto-registration is off
   */
  public int idFor(String subject, Schema schema) {
    return idsBySubjectSchema.computeIfAbsent(
        new SubjectSchema(subject, schema), key -> fetchOrRegister(subject, schema));
  }

  /**
   * The schema registered under {@code id}.
   *
   * @throws SerdeException {@link Reason#UNKNOWN_SCHEMA_ID} when the registry has no such id,
   *     {@link Reason#UNPARSABLE_SCHEMA} when what it has is not a valid Avro schema
   */
  @Override
  public Schema schemaById(int id) {
    return schemasById.computeIfAbsent(id, this::fetchSchema);
  }

  /** The compatibility level of a subject, or null when the subject has none of its own. */
  public String compatibility(String subject) {
    HttpResponse<String> response = send(get("/config/" + encode(subject)), "read compatibility");
    if (response.statusCode() == 404) {
      return null;
    }
    JsonNode body = parseOk(response, "read compatibility of subject " + subject);
    JsonNode level =
        body.has("compatibilityLevel") ? body.get("compatibilityLevel") : body.get("compatibility");
    return level == null ? null : level.asText();
  }

  private int fetchOrRegister(String subject, Schema schema) {
    HttpResponse<String> lookup =
        send(post("/subjects/" + encode(subject), schemaBody(schema)), "look up schema");
    if (lookup.statusCode() == 200) {
      return parseOk(lookup, "look up schema").get("id").asInt();
    }
    if (lookup.statusCode() != 404) {
      throw unexpected(lookup, "look up schema under subject " + subject);
    }
    if (!config.autoRegister()) {
      throw new SerdeException(
          Reason.SCHEMA_NOT_REGISTERED,
          "schema "
              + schema.getFullName()
              + " is not registered under subject "
              + subject
              + " at "
              + config.registryUrl()
              + " and "
              + RegistrySerdeConfig.AUTO_REGISTER
              + "=false: register it first, or enable auto-registration");
    }
    boolean newSubject = errorCode(lookup) == SUBJECT_NOT_FOUND;
    if (newSubject) {
      setCompatibility(subject, SUBJECT_COMPATIBILITY);
    }
    HttpResponse<String> registered =
        send(post("/subjects/" + encode(subject) + "/versions", schemaBody(schema)), "register");
    if (registered.statusCode() == 409) {
      throw new SerdeException(
          Reason.INCOMPATIBLE_SCHEMA,
          "the registry at "
              + config.registryUrl()
              + " refused schema "
              + schema.getFullName()
              + " under subject "
              + subject
              + " as incompatible with the versions registered before (compatibility "
              + compatibilityOrDefault(subject)
              + "): "
              + errorMessage(registered)
              + ". Make the change compatible (add fields with defaults) or publish it under a new"
              + " topic with the next major version");
    }
    int id = parseOk(registered, "register schema under subject " + subject).get("id").asInt();
    log.info(
        "registered schema {} under subject {} with id {}{}",
        schema.getFullName(),
        subject,
        id,
        newSubject ? " (new subject, compatibility " + SUBJECT_COMPATIBILITY + ")" : "");
    schemasById.putIfAbsent(id, schema);
    return id;
  }

  private String compatibilityOrDefault(String subject) {
    try {
      String level = compatibility(subject);
      return level == null ? "registry default" : level;
    } catch (SerdeException e) {
      return "unknown";
    }
  }

  /** Sets the compatibility level of one subject. */
  public void setCompatibility(String subject, String level) {
    ObjectNode body = JSON.createObjectNode().put("compatibility", level);
    HttpResponse<String> response =
        send(put("/config/" + encode(subject), body.toString()), "set compatibility");
    parseOk(response, "set compatibility " + level + " on subject " + subject);
  }

  private Schema fetchSchema(int id) {
    HttpResponse<String> response = send(get("/schemas/ids/" + id), "fetch schema");
    if (response.statusCode() == 404) {
      throw new SerdeException(
          Reason.UNKNOWN_SCHEMA_ID,
          "the record names schema id "
              + id
              + ", which the registry at "
              + config.registryUrl()
              + " does not know: was it written against another registry, or was the registry's"
              + " storage reset?");
    }
    String text = parseOk(response, "fetch schema id " + id).get("schema").asText();
    try {
      return new Schema.Parser().parse(text);
    } catch (RuntimeException e) {
      // The registry answered: the record names a schema that cannot be read, which is about
      // the record (and every record with this id), not about the registry.
      throw new SerdeException(
          Reason.UNPARSABLE_SCHEMA,
          "schema id "
              + id
              + " from the registry at "
              + config.registryUrl()
              + " is not a valid Avro schema: "
              + e.getMessage(),
          e);
    }
  }

  private static String schemaBody(Schema schema) {
    return JSON.createObjectNode().put("schema", schema.toString()).toString();
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder builder =
        HttpRequest.newBuilder(URI.create(config.registryUrl() + path))
            .timeout(config.requestTimeout())
            .header("Accept", CONTENT_TYPE + ", application/json");
    if (config.transport().authorization() != null) {
      builder.header("Authorization", config.transport().authorization());
    }
    return builder;
  }

  private HttpRequest get(String path) {
    return request(path).GET().build();
  }

  private HttpRequest post(String path, String body) {
    return request(path)
        .header("Content-Type", CONTENT_TYPE)
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  private HttpRequest put(String path, String body) {
    return request(path)
        .header("Content-Type", CONTENT_TYPE)
        .PUT(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  private HttpResponse<String> send(HttpRequest request, String operation) {
    try {
      return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new SerdeException(
          Reason.REGISTRY_UNREACHABLE,
          "schema registry unreachable at "
              + config.registryUrl()
              + " ("
              + operation
              + ": "
              + e
              + "): is it running, and is "
              + RegistrySerdeConfig.REGISTRY_URL
              + " right?",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SerdeException(
          Reason.REGISTRY_UNREACHABLE, "interrupted while calling the schema registry", e);
    }
  }

  private JsonNode parseOk(HttpResponse<String> response, String operation) {
    if (response.statusCode() / 100 != 2) {
      throw unexpected(response, operation);
    }
    try {
      return JSON.readTree(response.body());
    } catch (IOException e) {
      throw new SerdeException(
          Reason.REGISTRY_ERROR,
          operation + ": the registry answered with a body that is not JSON: " + response.body(),
          e);
    }
  }

  private SerdeException unexpected(HttpResponse<String> response, String operation) {
    if (response.statusCode() == 401 || response.statusCode() == 403) {
      // Not a registry fault: the credentials are wrong or missing, a setting to fix.
      return new SerdeException(
          Reason.REGISTRY_REFUSED,
          operation
              + " refused at "
              + config.registryUrl()
              + ": HTTP "
              + response.statusCode()
              + (config.transport().authorization() == null
                  ? ": the registry requires credentials: set --registry-username and"
                      + " --registry-password-file (or --registry-token-file)"
                  : ": the registry does not accept the credentials: check --registry-username"
                      + " and the password in --registry-password-file (or the token in"
                      + " --registry-token-file) and their environment variables"));
    }
    return new SerdeException(
        Reason.REGISTRY_ERROR,
        operation
            + " failed at "
            + config.registryUrl()
            + ": HTTP "
            + response.statusCode()
            + ": "
            + errorMessage(response));
  }

  private static int errorCode(HttpResponse<String> response) {
    try {
      JsonNode code = JSON.readTree(response.body()).get("error_code");
      return code == null ? -1 : code.asInt();
    } catch (IOException e) {
      return -1;
    }
  }

  private static String errorMessage(HttpResponse<String> response) {
    try {
      JsonNode message = JSON.readTree(response.body()).get("message");
      return message == null ? response.body() : message.asText();
    } catch (IOException e) {
      return response.body();
    }
  }

  private static String encode(String subject) {
    return URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
