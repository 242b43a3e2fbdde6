package io.flowsight.collector;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.collector.CollectorHealth.Status;
import io.flowsight.schemas.serde.SerdeException;
import io.flowsight.schemas.serde.SerdeException.Reason;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.streams.errors.StreamsException;
import org.junit.jupiter.api.Test;

/** The rule that turns thread replacements into /health's verdict, with plain numbers as time. */
class CollectorHealthTest {

  private static final long MINUTE = 60_000;

  private final CollectorHealth health = new CollectorHealth();

  /** A failure thrown at one place in the code (the same cause each time it is made). */
  private static RuntimeException bug(String message) {
    return new StreamsException("task failed", new IllegalStateException(message));
  }

  private static RuntimeException otherBug() {
    return new StreamsException("task failed", new ArithmeticException("/ by zero"));
  }

  @Test
  void shouldGoDownOnTheFourthReplacementForOneCauseWithinFiveMinutes() {
    long t = 1_000_000;
    for (int i = 0; i < 3; i++) {
      health.threadFailed(bug("offset " + i), t + i * MINUTE);
    }
    assertThat(health.verdict(t + 2 * MINUTE).status()).isEqualTo(Status.UP);

    health.threadFailed(bug("offset 3"), t + 4 * MINUTE);

    CollectorHealth.Verdict down = health.verdict(t + 4 * MINUTE);
    assertThat(down.status()).isEqualTo(Status.DOWN);
    assertThat(down.reason())
        .contains("replaced 4 times in 5 minutes for the same cause")
        .contains("java.lang.IllegalStateException at ")
        .contains("offset 3");
  }

  @Test
  void shouldNotAddUpReplacementsOlderThanFiveMinutesOrOfDifferentCauses() {
    long t = 1_000_000;
    // Four of one cause, but spread over more than five minutes.
    for (int i = 0; i < 4; i++) {
      health.threadFailed(bug("x"), t + i * 2 * MINUTE);
    }
    // Three of each of two other causes.
    for (int i = 0; i < 3; i++) {
      health.threadFailed(otherBug(), t + 6 * MINUTE + i);
      health.threadFailed(new SerdeException(Reason.BAD_CONFIGURATION, "bad"), t + 6 * MINUTE + i);
    }

    assertThat(health.verdict(t + 6 * MINUTE + 10).status()).isEqualTo(Status.UP);
  }

  @Test
  void shouldComeBackUpWhenTheLoopHasNotRecurredForFiveMinutes() {
    long t = 1_000_000;
    for (int i = 0; i < 4; i++) {
      health.threadFailed(bug("x"), t + i);
    }
    assertThat(health.verdict(t + MINUTE).status()).isEqualTo(Status.DOWN);
    // The oldest of the four leaves the window: three remain.
    assertThat(health.verdict(t + 5 * MINUTE + 1).status()).isEqualTo(Status.UP);
  }

  @Test
  void shouldReportAnUnreachableRegistryOrBrokerAsDegradedNeverDown() {
    long t = 1_000_000;
    for (int i = 0; i < 10; i++) {
      health.threadFailed(
          new StreamsException(
              new SerdeException(
                  Reason.REGISTRY_UNREACHABLE, "schema registry unreachable at http://r:8081")),
          t + i * 1000);
    }
    CollectorHealth.Verdict degraded = health.verdict(t + 10_000);
    assertThat(degraded.status()).isEqualTo(Status.DEGRADED);
    assertThat(degraded.reason()).contains("schema registry unreachable at http://r:8081");

    health.threadFailed(new StreamsException(new TimeoutException("commit timed out")), t + MINUTE);
    assertThat(health.verdict(t + MINUTE).reason()).contains("commit timed out");

    // A minute after the last failure, processing has resumed: UP again.
    assertThat(health.verdict(t + 2 * MINUTE).status()).isEqualTo(Status.UP);
  }

  @Test
  void shouldClassifyOnlyRegistryAndBrokerFailuresAsInfrastructure() {
    assertThat(
            CollectorHealth.classify(
                    new SerdeException(Reason.REGISTRY_ERROR, "HTTP 500 from the registry"))
                .infrastructure())
        .isTrue();
    assertThat(CollectorHealth.classify(new TimeoutException("t")).infrastructure()).isTrue();
    assertThat(
            CollectorHealth.classify(new SerdeException(Reason.MALFORMED, "bad record"))
                .infrastructure())
        .isFalse();
    assertThat(CollectorHealth.classify(bug("x")).infrastructure()).isFalse();
    assertThat(CollectorHealth.classify(bug("a")).cause())
        .isEqualTo(CollectorHealth.classify(bug("b")).cause());
  }
}
