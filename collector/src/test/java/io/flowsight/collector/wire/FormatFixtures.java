package io.flowsight.collector.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.flowsight.collector.output.Owner;
import io.flowsight.enrichment.IpAddresses;
import io.flowsight.schemas.AttributionStatus;
import io.flowsight.schemas.FlowKind;
import io.flowsight.schemas.Protocol;
import io.flowsight.schemas.Side;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.kafka.common.errors.SerializationException;

/**
 * The golden fixtures of the values (and keys) the collector persists in its changelog and
 * repartition topics, and the fixed objects they encode, shared by the format tests of the three
 * packages that own those formats ({@code WireFormatsTest}, {@code AttributionFormatsTest}, {@code
 * AggregationFormatsTest}). The fixtures live in {@code src/test/resources/golden/<package>/}: a
 * hex text file per message type and version, its first line saying what object it encodes, each
 * byte group commented with the field it holds, its encoding (u8, uvarint, zlong = zigzag then
 * uvarint, nstring = uvarint length + 1 then UTF-8, long8 = 8 bytes big-endian) and its value.
 *
 * <p>A collector restarted on a newer build restores its stores from the changelogs and reads the
 * repartition topics written by the build before it, so these bytes are a contract with the
 * collector's own past. <b>The fixtures are the truth: the tests never regenerate them.</b> A
 * change to a format must add a new version (a new version or type byte and a new fixture) and keep
 * every older fixture decoding (as {@code aggregation/dedupe-v1.hex} still does after version 2);
 * changing or deleting a fixture to make a test pass is changing the contract, and breaks every
 * collector upgraded in place.
 *
 * <p>Every fixture is checked both ways: the current encoder writes exactly these bytes for the
 * fixed object (a fully populated one, and one with the null / unattributed branches of the
 * format), and the fixture decodes to that object, field by field. Older versions still read are
 * fixtures built by hand from the documented layout, decode only.
 */
public final class FormatFixtures {

  private FormatFixtures() {}

  /** 2025-11-24T16:00:00Z: a window start (a whole minute), epoch ms. */
  public static final long T0 = 1_764_000_000_000L;

  public static final Owner PAYMENTS =
      new Owner(
          "payments",
          "prod-east",
          "shop",
          "Deployment",
          "payments",
          "us-east-1a",
          "us-east-1",
          "123456789012");

  public static final Owner DATACENTER =
      new Owner(
          "dc-frankfurt",
          "fra1",
          "network",
          "CidrBlock",
          "fra1-core",
          "eu-central-1a",
          "eu-central-1",
          "210987654321");

  /** Nulls and an empty string: nstring keeps them apart (0 and 1). */
  public static final Owner SPARSE =
      new Owner("internet", "", null, null, null, null, "global", null);

  /**
   * Every field set, every number distinct: a SERVER record of an INTERIM report, held back and
   * announced, both ends attributed (OWNER and CIDR).
   */
  public static InternalFlow fullFlow() {
    return new InternalFlow(
        5,
        1_234_567,
        T0 + 60_200,
        FlowKind.INTERIM,
        Protocol.TCP,
        Side.SERVER,
        IpAddresses.parse("10.2.0.8"),
        443,
        IpAddresses.parse("10.1.0.1"),
        40001,
        443,
        T0 + 1_000,
        T0 + 31_000,
        T0 + 59_000,
        123_456,
        654_321,
        321,
        456,
        7,
        250,
        new EndAttribution(AttributionStatus.OWNER, PAYMENTS),
        new EndAttribution(AttributionStatus.CIDR, DATACENTER),
        T0 + 180_000,
        true);
  }

  /**
   * The other branches: IPv6, a failed connect (no port yet, equal times, zero counters and RTT),
   * neither end attributed, never held.
   */
  public static InternalFlow bareFlow() {
    return new InternalFlow(
        0,
        0,
        T0 + 5_000,
        FlowKind.FAILED_CONNECT,
        Protocol.TCP,
        Side.CLIENT,
        IpAddresses.parse("2001:db8::1"),
        0,
        IpAddresses.parse("2001:db8::2"),
        8443,
        8443,
        T0 + 2_000,
        T0 + 2_000,
        T0 + 2_000,
        0,
        0,
        3,
        0,
        2,
        0,
        null,
        null,
        0,
        false);
  }

  /** {@link #bareFlow()} with both ends unattributed with a reason (a status without an owner). */
  public static InternalFlow unattributedFlow() {
    return bareFlow()
        .withLocal(new EndAttribution(AttributionStatus.CONFLICT, null))
        .withRemote(new EndAttribution(AttributionStatus.NEVER_SEEN, null));
  }

  public static void assertFlow(InternalFlow actual, InternalFlow expected) {
    // Field by field (the IPs are byte arrays: compared by content).
    assertThat(actual).usingRecursiveComparison().isEqualTo(expected);
    assertThat(actual.localIpText()).isEqualTo(expected.localIpText());
    assertThat(actual.remoteIpText()).isEqualTo(expected.remoteIpText());
  }

  // ---- the checks ------------------------------------------------------------------------------

  /**
   * One persisted form: its fixture (the path under {@code golden/}), how the current build writes
   * the fixed object (null for an older version, read only), and what the fixture must decode to.
   */
  public record Format(String fixture, Supplier<byte[]> encode, Consumer<byte[]> decodesTo) {
    @Override
    public String toString() {
      return fixture;
    }

    /** The current encoder writes exactly the fixture's bytes (an older version: nothing to do). */
    public void assertWritesTheFixture() {
      if (encode == null) {
        return; // an older version: read only, no longer written
      }
      assertThat(HexFormat.of().formatHex(encode.get()))
          .as("bytes written for %s (a change needs a new version, see FormatFixtures)", fixture)
          .isEqualTo(HexFormat.of().formatHex(golden(fixture)));
    }

    public void assertDecodesTheFixture() {
      decodesTo.accept(golden(fixture));
    }
  }

  /**
   * A version or type byte this build does not know ({@code versionAt} set to 9): a clear error,
   * never a wrong value.
   */
  public static void assertRefusesAnUnknownVersion(
      String fixture, int versionAt, Function<byte[], Object> decode, String message) {
    byte[] bytes = golden(fixture);
    bytes[versionAt] = 9;
    assertThatThrownBy(() -> decode.apply(bytes))
        .isInstanceOf(SerializationException.class)
        .hasMessage(message);
  }

  /** {@code golden/<directory>/} holds exactly the fixtures of {@code formats}, no stray one. */
  public static void assertFixturesAreExactly(String directory, Stream<Format> formats)
      throws IOException {
    List<String> listed = formats.map(Format::fixture).sorted().toList();
    // Surefire runs in the module's directory.
    try (Stream<Path> files = Files.list(Path.of("src/test/resources/golden", directory))) {
      assertThat(files.map(f -> directory + "/" + f.getFileName()).sorted().toList())
          .containsExactlyElementsOf(listed);
    }
  }

  /**
   * The bytes of a fixture (its path under {@code golden/}): hex digits, whitespace ignored, {@code
   * #} starts a comment to the end of the line. Its first line must be a comment saying what it
   * encodes.
   */
  public static byte[] golden(String path) {
    try (InputStream in = resource("golden/" + path)) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      assertThat(text).as("first line of %s", path).startsWith("# ");
      StringBuilder hex = new StringBuilder();
      for (String line : text.split("\n", -1)) {
        int comment = line.indexOf('#');
        hex.append((comment < 0 ? line : line.substring(0, comment)).replaceAll("\\s", ""));
      }
      return HexFormat.of().parseHex(hex);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static InputStream resource(String path) {
    InputStream in = FormatFixtures.class.getClassLoader().getResourceAsStream(path);
    if (in == null) {
      throw new AssertionError("test resource " + path + " is missing");
    }
    return in;
  }
}
