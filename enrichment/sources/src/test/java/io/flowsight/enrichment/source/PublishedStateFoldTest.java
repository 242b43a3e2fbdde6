package io.flowsight.enrichment.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PublishedStateFoldTest {

  private static Identity app(String app) {
    return Identity.newBuilder().setApp(app).setLabels(Map.of()).build();
  }

  @Test
  void shouldKeepOnlyTheIdentitiesStillAssigned() {
    PublishedStateReader.Fold fold = new PublishedStateReader.Fold();
    fold.apply("10.0.0.1", app("a"), IdentityAction.ASSIGN);
    fold.apply("10.0.0.1", app("b"), IdentityAction.ASSIGN);
    fold.apply("10.0.0.1", app("a"), IdentityAction.UNASSIGN);
    fold.apply("10.0.0.1", app("c"), IdentityAction.UNASSIGN); // never assigned: nothing
    fold.apply("10.0.0.1", app("b"), IdentityAction.ASSIGN); // a repeat: one pair
    for (int i = 0; i < 1000; i++) { // churn leaves nothing behind
      fold.apply("10.0.1." + (i % 250), app("pod-" + i), IdentityAction.ASSIGN);
      fold.apply("10.0.1." + (i % 250), app("pod-" + i), IdentityAction.UNASSIGN);
    }
    fold.apply("10.0.0.0/8", app("block"), IdentityAction.ASSIGN);

    assertThat(fold.assigned())
        .isEqualTo(Map.of("10.0.0.1", Set.of(app("b")), "10.0.0.0/8", Set.of(app("block"))));
  }
}
