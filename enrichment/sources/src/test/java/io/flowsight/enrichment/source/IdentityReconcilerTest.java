package io.flowsight.enrichment.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.enrichment.source.IdentityReconciler.Claim;
import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IpIdentityChange;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class IdentityReconcilerTest {

  private static final Identity A = Identity.newBuilder().setApp("a").setLabels(Map.of()).build();
  private static final Identity B = Identity.newBuilder().setApp("b").setLabels(Map.of()).build();
  private static final Instant T1 = Instant.parse("2026-01-01T10:00:00Z");
  private static final Instant T2 = Instant.parse("2026-01-01T11:00:00Z");
  private static final Instant T3 = Instant.parse("2026-01-01T12:00:00Z");

  private final List<IpIdentityChange> events = new ArrayList<>();

  private String log() {
    return String.join(
        "; ",
        events.stream()
            .map(
                e ->
                    e.getAction()
                        + " "
                        + IdentityChanges.targetOf(e)
                        + " "
                        + e.getIdentity().getApp()
                        + " "
                        + e.getEventTime())
            .toList());
  }

  private IdentityReconciler reconciler(Map<String, Set<Identity>> published) {
    return new IdentityReconciler("kubernetes", "c1", events::add, published);
  }

  @Test
  void shouldPublishOnlyWhatChanges() {
    IdentityReconciler r = reconciler(Map.of());
    r.update("pod/1", Map.of("10.0.0.1", new Claim(A, T1)), T2);
    r.update("pod/1", Map.of("10.0.0.1", new Claim(A, T1)), T2); // resync: nothing
    r.finishInitialSync(T2);
    r.update("pod/1", Map.of("10.0.0.1", new Claim(B, null)), T3); // identity changed
    r.remove("pod/1", T3);
    r.remove("pod/1", T3); // deleted twice: nothing more

    assertThat(log())
        .isEqualTo(
            "ASSIGN 10.0.0.1 a 2026-01-01T10:00:00Z; UNASSIGN 10.0.0.1 a 2026-01-01T12:00:00Z;"
                + " ASSIGN 10.0.0.1 b 2026-01-01T12:00:00Z; UNASSIGN 10.0.0.1 b"
                + " 2026-01-01T12:00:00Z");
    assertThat(events).allSatisfy(e -> assertThat(e.getSourceInstance()).isEqualTo("c1"));
    assertThat(r.published()).isEmpty();
  }

  @Test
  void shouldRepublishNothingAfterARestartAndWithdrawWhatWentMeanwhile() {
    IdentityReconciler r =
        reconciler(Map.of("10.0.0.1", Set.of(A), "10.0.0.2", Set.of(B), "10.0.0.3", Set.of(A)));
    r.update("pod/1", Map.of("10.0.0.1", new Claim(A, T1)), T3);
    r.update("pod/2", Map.of("10.0.0.2", new Claim(B, T1)), T3);
    r.update("pod/4", Map.of("10.0.0.4", new Claim(B, T2)), T3);
    r.finishInitialSync(T3);

    assertThat(log())
        .isEqualTo(
            "ASSIGN 10.0.0.4 b 2026-01-01T11:00:00Z; UNASSIGN 10.0.0.3 a 2026-01-01T12:00:00Z");
    assertThat(r.published().keySet()).containsExactly("10.0.0.1", "10.0.0.2", "10.0.0.4");
  }

  @Test
  void shouldWithdrawASharedClaimOnlyWhenItsLastObjectGoes() {
    IdentityReconciler r = reconciler(Map.of());
    r.finishInitialSync(T1);
    r.update("svc/1", Map.of("192.0.2.10", new Claim(A, T1)), T1);
    r.update("svc/2", Map.of("192.0.2.10", new Claim(A, T2)), T2);
    r.remove("svc/1", T2);
    assertThat(log()).isEqualTo("ASSIGN 192.0.2.10 a 2026-01-01T10:00:00Z");
    r.remove("svc/2", T3);
    assertThat(log())
        .isEqualTo(
            "ASSIGN 192.0.2.10 a 2026-01-01T10:00:00Z; UNASSIGN 192.0.2.10 a"
                + " 2026-01-01T12:00:00Z");
  }
}
