package io.flowsight.enrichment.source.statics;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.enrichment.IdentitySourceMain;
import io.flowsight.enrichment.source.IdentityChanges;
import io.flowsight.enrichment.source.IdentityReconciler;
import io.flowsight.enrichment.source.KafkaIdentityPublisher;
import io.flowsight.enrichment.source.PublishedStateReader;
import io.flowsight.enrichment.source.PublisherConfig;
import io.flowsight.enrichment.source.TopicReader;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import io.flowsight.schemas.IpIdentityChange;
import io.flowsight.testing.LocalStack;
import io.flowsight.testing.LocalStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The static source on a real broker and registry: file to events, edits to exact events. */
@ExtendWith(LocalStackExtension.class)
class StaticIdentitySourceIT {

  private static final Instant FIRST = Instant.parse("2026-01-01T10:00:00Z");
  private static final Instant EDITED = Instant.parse("2026-01-01T11:00:00Z");
  private static final Instant BROKEN = Instant.parse("2026-01-01T11:30:00Z");

  @TempDir Path dir;

  private static void write(Path file, String text, Instant modified) throws Exception {
    Files.writeString(file, text);
    Files.setLastModifiedTime(file, FileTime.from(modified));
  }

  @Test
  void shouldPublishTheFileThenExactlyTheChangesOfEachEdit(LocalStack stack) throws Exception {
    String topic = stack.createTopic("ip-identity-v1", 3);
    Path file = dir.resolve("identities.yaml");
    // The local stack's sample (deploy/local), from this module's directory.
    write(file, Files.readString(Path.of("../../deploy/local/sample-identities.yaml")), FIRST);
    String instance = StaticIdentitySource.instanceOf(file);
    String[] publishArgs = {
      "--bootstrap-servers", stack.bootstrapServers(),
      "--registry-url", stack.registryUrl(),
      "--topic", topic
    };

    try (TopicReader topicReader = new TopicReader(stack, topic)) {
      // 1. The sample file, published once by the command line's --once.
      assertThat(
              IdentitySourceMain.run(
                  "static",
                  "--file",
                  file.toString(),
                  "--once",
                  publishArgs[0],
                  publishArgs[1],
                  publishArgs[2],
                  publishArgs[3],
                  publishArgs[4],
                  publishArgs[5]))
          .isZero();
      List<IpIdentityChange> first = topicReader.next(3);
      assertThat(TopicReader.describe(first))
          .containsExactly(
              "ASSIGN 127.0.0.0/8 localhost " + FIRST,
              "ASSIGN 127.0.0.2 frontend " + FIRST,
              "ASSIGN 127.0.0.3 backend " + FIRST);
      IpIdentityChange block =
          first.stream().filter(e -> e.getPrefixLength() != null).findFirst().orElseThrow();
      assertThat(block.getPrefixLength()).isEqualTo(8);
      assertThat(block.getSource()).isEqualTo("static");
      assertThat(block.getSourceInstance()).isEqualTo(instance);
      assertThat(block.getIdentity())
          .isEqualTo(
              Identity.newBuilder()
                  .setApp("localhost")
                  .setCluster("local")
                  .setZone("local-a")
                  .setLabels(Map.of())
                  .build());

      // 2. A long-running source starts on the same file: it reads back what was published and
      //    publishes nothing again.
      PublisherConfig config =
          new PublisherConfig(stack.bootstrapServers(), stack.registryUrl(), topic);
      try (KafkaIdentityPublisher publisher = new KafkaIdentityPublisher(config, "it-static")) {
        IdentityReconciler reconciler =
            new IdentityReconciler(
                StaticIdentitySource.SOURCE,
                instance,
                publisher,
                PublishedStateReader.read(
                        config.withReadBackTimeout(Duration.ofSeconds(30)),
                        StaticIdentitySource.SOURCE,
                        instance)
                    .published());
        StaticIdentitySource source = new StaticIdentitySource(file, reconciler);
        source.start();
        assertThat(source.poll()).isFalse();
        topicReader.next(0);

        // 3. Edit: backend removed, frontend moved to zone local-b, worker added.
        write(
            file,
            """
            defaults:
              cluster: local
              zone: local-a
            identities:
              - ip: 127.0.0.2
                app: frontend
                workloadKind: Process
                workloadName: frontend
                zone: local-b
              - ip: 127.0.0.4
                app: worker
              - cidr: 127.0.0.0/8
                app: localhost
            """,
            EDITED);
        assertThat(source.poll()).isTrue();
        List<IpIdentityChange> edit = topicReader.next(4);
        assertThat(TopicReader.describe(edit))
            .containsExactly(
                "ASSIGN 127.0.0.2 frontend " + EDITED,
                "ASSIGN 127.0.0.4 worker " + EDITED,
                "UNASSIGN 127.0.0.2 frontend " + EDITED,
                "UNASSIGN 127.0.0.3 backend " + EDITED);
        // On 127.0.0.2 (one key, one partition, in order): the old identity goes, then the new.
        List<IpIdentityChange> frontend =
            edit.stream().filter(e -> IdentityChanges.targetOf(e).equals("127.0.0.2")).toList();
        assertThat(frontend)
            .extracting(e -> e.getAction() + " " + e.getIdentity().getZone())
            .containsExactly("UNASSIGN local-a", "ASSIGN local-b");

        // 4. A broken edit names its line and publishes nothing; the last good content stays.
        write(
            file,
            """
            identities:
              - ip: 127.0.0.2
                app: frontend
              - ip: 127.0.0.300
                app: worker
            """,
            BROKEN);
        assertThat(source.poll()).isFalse();
        assertThat(source.lastError())
            .startsWith(
                file + ":4: ip '127.0.0.300' is not an IPv4 or IPv6 address (keeping the last");
        topicReader.next(0);
        assertThat(reconciler.published())
            .containsOnlyKeys("127.0.0.2", "127.0.0.4", "127.0.0.0/8");
      }

      // 5. Fixed and run once more from the command line: only the difference is published.
      write(
          file,
          """
          identities:
            - ip: 127.0.0.4
              app: worker
              cluster: local
              zone: local-a
            - cidr: 127.0.0.0/8
              app: localhost
              cluster: local
              zone: local-a
          """,
          BROKEN);
      assertThat(
              IdentitySourceMain.run(
                  "static",
                  "--file",
                  file.toString(),
                  "--once",
                  publishArgs[0],
                  publishArgs[1],
                  publishArgs[2],
                  publishArgs[3],
                  publishArgs[4],
                  publishArgs[5]))
          .isZero();
      List<IpIdentityChange> fixed = topicReader.next(1);
      assertThat(fixed.get(0).getAction()).isEqualTo(IdentityAction.UNASSIGN);
      assertThat(TopicReader.describe(fixed))
          .containsExactly("UNASSIGN 127.0.0.2 frontend " + BROKEN);
    }
  }
}
