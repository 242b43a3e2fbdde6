package io.flowsight.enrichment.ownership;

import static io.flowsight.enrichment.ownership.Fixtures.CHECKOUT;
import static io.flowsight.enrichment.ownership.Fixtures.PAYMENTS;
import static io.flowsight.enrichment.ownership.Fixtures.assign;
import static io.flowsight.enrichment.ownership.Fixtures.at;
import static io.flowsight.enrichment.ownership.Fixtures.change;
import static io.flowsight.enrichment.ownership.Fixtures.unassign;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.schemas.Identity;
import io.flowsight.schemas.IdentityAction;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class OwnershipHistorySerdeTest {

  private final OwnershipHistorySerde serde = new OwnershipHistorySerde();

  @Test
  void shouldRoundTripAHistoryWithEveryKindOfClaim() {
    HistoryPolicy policy = HistoryPolicy.DEFAULT.withRetention(Duration.ofHours(2));
    Identity labelled =
        Identity.newBuilder(PAYMENTS)
            .setAccount("123456789012")
            .setLabels(Map.of("team", "payments", "tier", "1", "ünïcode", "✓"))
            .build();
    OwnershipHistory h =
        OwnershipHistory.empty()
            .withChange(assign("10.1.2.3", CHECKOUT, "08:00"), policy)
            .withChange(unassign("10.1.2.3", CHECKOUT, "09:00"), policy)
            .withHeartbeat(CHECKOUT, at("08:10"), at("08:20"), policy)
            .withChange(
                change(IdentityAction.ASSIGN, "10.1.2.3", labelled, "09:30", "static"), policy)
            .withHeartbeat(labelled, at("09:40"), at("09:41"), policy)
            .withHeartbeat(PAYMENTS, at("09:45"), at("09:46"), policy)
            .expire(at("10:15"), policy);

    byte[] bytes = serde.serializer().serialize("store-changelog", h);
    OwnershipHistory back = serde.deserializer().deserialize("store-changelog", bytes);

    assertThat(back).isEqualTo(h);
    assertThat(back.ranges()).isEqualTo(h.ranges());
    assertThat(back.horizon()).contains(at("08:15"));
    assertThat(back.lookup(at("09:45:30")).identity()).isEqualTo(PAYMENTS);
    assertThat(back.lookup(at("10:00")).identity()).isEqualTo(labelled);
    assertThat(OwnershipHistorySerde.encode(back)).isEqualTo(bytes);
    // Compact: each of the three identities (~100-140 bytes of text) is written once, and the
    // ranges and events take a few bytes each.
    assertThat(bytes.length).isEqualTo(449);
  }

  @Test
  void shouldWriteTheDocumentedLayout() {
    Identity web = Identity.newBuilder().setApp("web").setLabels(Map.of()).build();
    OwnershipHistory h =
        OwnershipHistory.empty()
            .withChange(
                IdentityAction.ASSIGN,
                web,
                Instant.ofEpochMilli(1000),
                "static",
                null,
                HistoryPolicy.DEFAULT);

    byte[] expected = {
      1, // version
      0, // flags: no horizon
      1, // one identity
      4,
      'w',
      'e',
      'b', // app: length + 1, UTF-8
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0,
      0, // nine null optional strings
      0, // no labels
      1, // one source
      7,
      's',
      't',
      'a',
      't',
      'i',
      'c', // source
      0, // sourceInstance null
      0, // no observed ranges
      1, // one change event
      0, // ASSIGN
      0, // identity #0
      0, // source #0
      (byte) 0xd0,
      0x0f // zigzag(1000) = 2000 as LEB128
    };
    assertThat(OwnershipHistorySerde.encode(h)).isEqualTo(expected);
    assertThat(OwnershipHistorySerde.encode(OwnershipHistory.empty()))
        .isEqualTo(new byte[] {1, 0, 0, 0, 0, 0});
    assertThat(serde.deserialize("t", null)).isNull();
    assertThat(serde.serialize("t", null)).isNull();
  }

  @Test
  void shouldRefuseAnUnknownVersionAndTruncatedBytesWithAClearError() {
    byte[] bytes =
        OwnershipHistorySerde.encode(
            OwnershipHistory.empty()
                .withChange(assign("10.1.2.3", CHECKOUT, "08:00"), HistoryPolicy.DEFAULT));

    byte[] future = bytes.clone();
    future[0] = 9;
    assertThatThrownBy(() -> OwnershipHistorySerde.decode(future))
        .isInstanceOf(SerializationException.class)
        .hasMessage("OwnershipHistory format version 9 is unknown (this reader knows version 1)");

    assertThatThrownBy(() -> OwnershipHistorySerde.decode(Arrays.copyOf(bytes, bytes.length - 1)))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("truncated");
  }
}
