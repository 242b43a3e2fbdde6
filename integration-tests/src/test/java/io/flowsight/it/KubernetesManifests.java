package io.flowsight.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The manifests of {@code deploy/kubernetes/} as {@code kubectl apply -k} reads them: the files the
 * kustomization lists, each document read into fabric8's typed model. Strict: fabric8's model keeps
 * a field it does not know in {@code additionalProperties} (Jackson's any-setter) instead of
 * failing, so every object read is walked and any such field fails with its path, as the API
 * server's strict field validation would ({@code kubectl apply} warns or fails on it).
 */
final class KubernetesManifests {

  static final Path DIR = Repository.file("deploy/kubernetes");

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private KubernetesManifests() {}

  /** The kustomization's {@code resources}, in order. */
  static List<String> resources() throws IOException {
    JsonNode kustomization = YAML.readTree(DIR.resolve("kustomization.yaml").toFile());
    List<String> out = new ArrayList<>();
    kustomization.get("resources").forEach(r -> out.add(r.asText()));
    return out;
  }

  /** Every object of every listed file, typed; fails on a field the model does not know. */
  static List<HasMetadata> objects() throws IOException {
    List<HasMetadata> out = new ArrayList<>();
    for (String file : resources()) {
      String text = Files.readString(DIR.resolve(file));
      int document = 0;
      for (String yaml : text.split("(?m)^---\\s*$")) {
        if (yaml.strip().isEmpty()
            || yaml.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
          continue;
        }
        document++;
        HasMetadata object;
        try {
          object = SERIALIZATION.unmarshal(yaml, HasMetadata.class);
        } catch (RuntimeException e) {
          throw new AssertionError(file + " document " + document + ": " + e.getMessage(), e);
        }
        if (object == null || object instanceof GenericKubernetesResource) {
          throw new AssertionError(file + " document " + document + ": not a known kind");
        }
        out.add(strict(object, file + " document " + document));
      }
    }
    return out;
  }

  /** {@code object}, if fabric8's model knew every field of it; else an error naming them. */
  static <T extends HasMetadata> T strict(T object, String where) {
    List<String> unknown = new ArrayList<>();
    unknownFields(object, object.getKind(), unknown, new IdentityHashMap<>());
    if (!unknown.isEmpty()) {
      throw new AssertionError(where + ": fields the API does not know: " + unknown);
    }
    return object;
  }

  /** The one object of this kind and name. */
  static <T extends HasMetadata> T get(Class<T> kind, String name) throws IOException {
    List<T> found =
        objects().stream()
            .filter(kind::isInstance)
            .map(kind::cast)
            .filter(o -> o.getMetadata().getName().equals(name))
            .toList();
    if (found.size() != 1) {
      throw new AssertionError(found.size() + " " + kind.getSimpleName() + " named " + name);
    }
    return found.get(0);
  }

  /** A ConfigMap's data, as the environment its {@code envFrom} gives a container. */
  static Map<String, String> configMapEnv(String name) throws IOException {
    return new LinkedHashMap<>(get(ConfigMap.class, name).getData());
  }

  /**
   * The variables a container's {@code env} entries with plain values give, {@code $(VAR)} expanded
   * from those before them and from {@code base} (the kubelet's rule); entries from the downward
   * API take {@code fieldValues}' value for their field path.
   */
  static Map<String, String> env(
      List<EnvVar> entries, Map<String, String> base, Map<String, String> fieldValues) {
    Map<String, String> env = new LinkedHashMap<>(base);
    Pattern reference = Pattern.compile("\\$\\(([A-Za-z_][A-Za-z0-9_]*)\\)");
    for (EnvVar e : entries) {
      if (e.getValue() != null) {
        env.put(e.getName(), expand(e.getValue(), env, reference));
      } else if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null) {
        String path = e.getValueFrom().getFieldRef().getFieldPath();
        if (!fieldValues.containsKey(path)) {
          throw new AssertionError(e.getName() + ": no test value for field " + path);
        }
        env.put(e.getName(), fieldValues.get(path));
      }
    }
    return env;
  }

  private static String expand(String text, Map<String, String> env, Pattern reference) {
    Matcher m = reference.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String v = env.get(m.group(1));
      m.appendReplacement(out, Matcher.quoteReplacement(v == null ? m.group() : v));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** The root pom's version: every image's tag. */
  static String projectVersion() throws IOException {
    String pom = Files.readString(Repository.file("deploy").getParent().resolve("pom.xml"));
    Matcher m =
        Pattern.compile("<artifactId>flowsight-parent</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(pom);
    if (!m.find()) {
      throw new AssertionError("no version of flowsight-parent in pom.xml");
    }
    return m.group(1);
  }

  /** Collects the paths of fields fabric8's model did not know (its additionalProperties). */
  private static void unknownFields(
      Object node, String path, List<String> out, Map<Object, Boolean> seen) {
    if (node == null || seen.put(node, Boolean.TRUE) != null) {
      return;
    }
    if (node instanceof Collection<?> items) {
      int i = 0;
      for (Object item : items) {
        unknownFields(item, path + "[" + i++ + "]", out, seen);
      }
      return;
    }
    if (node instanceof Map<?, ?> map) {
      map.forEach((k, v) -> unknownFields(v, path + "." + k, out, seen));
      return;
    }
    if (!node.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method getter : node.getClass().getMethods()) {
      if (getter.getParameterCount() != 0
          || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get")
          || getter.getDeclaringClass() == Object.class) {
        continue;
      }
      Object value;
      try {
        value = getter.invoke(node);
      } catch (IllegalAccessException | InvocationTargetException e) {
        continue;
      }
      String field = getter.getName().substring(3);
      if (field.equals("AdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          extra.keySet().forEach(k -> out.add(path + "." + k));
        }
        continue;
      }
      String name = Character.toLowerCase(field.charAt(0)) + field.substring(1);
      unknownFields(value, path + "." + name, out, seen);
    }
  }

  /** The kinds every listed file may hold (and no other): a new kind needs a look at its checks. */
  static final Set<String> KINDS =
      Set.of(
          "Namespace",
          "ConfigMap",
          "DaemonSet",
          "StatefulSet",
          "Service",
          "PodDisruptionBudget",
          "ServiceAccount",
          "ClusterRole",
          "ClusterRoleBinding",
          "Deployment");
}
