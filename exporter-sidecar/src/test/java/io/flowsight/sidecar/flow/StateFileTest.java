package io.flowsight.sidecar.flow;

import static org.assertj.core.api.Assertions.assertThat;

import io.flowsight.schemas.Side;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateFileTest {

  @TempDir Path dir;

  private static final String BOOT = "3f0c1a52-9d7e-4b0a-8c11-0f5e2f4b9a10";

  @Test
  void shouldGiveBackWhatWasWrittenOnceAndThenNothing() throws IOException {
    StateFile state = new StateFile(dir.resolve("sub").resolve(StateFile.NAME), BOOT);
    List<SavedConnection> open =
        List.of(
            new SavedConnection(
                0xffff_8880_1234_0040L,
                Side.CLIENT,
                InetAddress.getByName("127.0.0.40"),
                40000,
                InetAddress.getByName("127.0.0.41"),
                8080,
                123_456_789_000L,
                223_456_789_000L,
                1_000_000_000_123L,
                77,
                12,
                9,
                1,
                4242,
                "java\tweird name"),
            new SavedConnection(
                0xffff_8880_1234_0080L,
                Side.SERVER,
                InetAddress.getByName("::1"),
                8080,
                InetAddress.getByName("::1"),
                50000,
                1,
                2,
                0,
                0,
                0,
                0,
                0,
                0,
                null));
    state.write(open);

    assertThat(state.readAndDelete()).contains(open);
    assertThat(Files.exists(state.path()))
        .as("read once: a run that dies leaves nothing")
        .isFalse();
    assertThat(state.readAndDelete()).isEmpty();
  }

  @Test
  void shouldTakeAFileOfAnEarlierBootAsNoConnectionOpen() throws IOException {
    Path file = dir.resolve(StateFile.NAME);
    new StateFile(file, BOOT)
        .write(
            List.of(
                new SavedConnection(
                    1,
                    Side.CLIENT,
                    InetAddress.getByName("10.0.0.1"),
                    1,
                    InetAddress.getByName("10.0.0.2"),
                    2,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    null)));

    assertThat(new StateFile(file, "another-boot").readAndDelete()).contains(List.of());
  }

  @Test
  void shouldStartWithoutStateFromABrokenFileAndDeleteIt() throws IOException {
    Path file = dir.resolve(StateFile.NAME);
    Files.writeString(file, StateFile.HEADER + "\nboot " + BOOT + "\nffff\tCLIENT\tnot enough\n");

    assertThat(new StateFile(file, BOOT).readAndDelete()).isEqualTo(Optional.empty());
    assertThat(Files.exists(file)).isFalse();
  }
}
