package io.flowsight.sidecar.flow;

import io.flowsight.schemas.Side;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The flow table's state between two runs: written at a clean shutdown, read and deleted at the
 * next start ({@link FlowTable#openConnections()}, {@link FlowTable#start}). A text file, one
 * connection a line, tab-separated:
 *
 * <pre>
 * # flowsight sidecar flow table v1
 * boot &lt;the kernel's boot id&gt;
 * socket side localIp localPort remoteIp remotePort startNs reportedUntilNs sent received segsOut segsIn retrans pid comm
 * </pre>
 *
 * <p>{@code socket} is the {@code struct sock *} address in hex; times are CLOCK_MONOTONIC ns,
 * which stay valid across processes until the host reboots, hence the boot id: a file from an
 * earlier boot describes no socket of this one. {@code comm} is URL-encoded (empty when unknown).
 * Written to a temporary file and moved into place, so a crash while writing leaves no half file.
 */
public final class StateFile {

  private static final Logger log = LoggerFactory.getLogger(StateFile.class);

  static final String HEADER = "# flowsight sidecar flow table v1";

  /** The file's name in {@code --state-dir}. */
  public static final String NAME = "flow-table.state";

  private static final Path BOOT_ID = Path.of("/proc/sys/kernel/random/boot_id");

  private final Path file;
  private final String bootId;

  /**
   * @param file where the state is kept
   * @param bootId this boot's id ({@link #currentBootId()})
   */
  public StateFile(Path file, String bootId) {
    this.file = file;
    this.bootId = bootId;
  }

  /** The kernel's id of this boot, {@code /proc/sys/kernel/random/boot_id}. */
  public static String currentBootId() {
    try {
      return Files.readString(BOOT_ID).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + BOOT_ID, e);
    }
  }

  public Path path() {
    return file;
  }

  /**
   * Reads the state and deletes the file, so that a run that dies does not leave it to the next.
   *
   * @return empty when there is no usable state: no file (first start, or the previous run did not
   *     stop cleanly) or one that cannot be read (logged); an empty list for a file of an earlier
   *     boot (no socket of it can still be open, and no run has reported any socket of this boot)
   */
  public Optional<List<SavedConnection>> readAndDelete() {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      log.warn("cannot read the flow table state {}: {}; starting without it", file, e.toString());
      deleteQuietly();
      return Optional.empty();
    }
    deleteQuietly();
    try {
      return Optional.of(parse(lines));
    } catch (RuntimeException e) {
      log.warn("flow table state {} is not valid ({}); starting without it", file, e.getMessage());
      return Optional.empty();
    }
  }

  private List<SavedConnection> parse(List<String> lines) throws IllegalArgumentException {
    if (lines.size() < 2 || !lines.get(0).equals(HEADER) || !lines.get(1).startsWith("boot ")) {
      throw new IllegalArgumentException("no '" + HEADER + "' and boot line");
    }
    String fileBoot = lines.get(1).substring("boot ".length()).trim();
    if (!fileBoot.equals(bootId)) {
      log.info("flow table state {} is of an earlier boot: no connection of it is open", file);
      return List.of();
    }
    List<SavedConnection> saved = new ArrayList<>(lines.size() - 2);
    for (int n = 2; n < lines.size(); n++) {
      String line = lines.get(n);
      if (line.isBlank()) {
        continue;
      }
      String[] f = line.split("\t", -1);
      if (f.length != 15) {
        throw new IllegalArgumentException(
            "line " + (n + 1) + " has " + f.length + " fields, not 15");
      }
      try {
        saved.add(
            new SavedConnection(
                Long.parseUnsignedLong(f[0], 16),
                Side.valueOf(f[1]),
                InetAddress.getByName(f[2]),
                Integer.parseInt(f[3]),
                InetAddress.getByName(f[4]),
                Integer.parseInt(f[5]),
                Long.parseLong(f[6]),
                Long.parseLong(f[7]),
                Long.parseLong(f[8]),
                Long.parseLong(f[9]),
                Long.parseLong(f[10]),
                Long.parseLong(f[11]),
                Long.parseLong(f[12]),
                Integer.parseInt(f[13]),
                f[14].isEmpty() ? null : URLDecoder.decode(f[14], StandardCharsets.UTF_8)));
      } catch (IOException | RuntimeException e) {
        throw new IllegalArgumentException("line " + (n + 1) + ": " + e.getMessage(), e);
      }
    }
    return saved;
  }

  /** Writes the state (replacing any), atomically. */
  public void write(List<SavedConnection> open) throws IOException {
    StringBuilder text = new StringBuilder(64 + open.size() * 120);
    text.append(HEADER).append('\n').append("boot ").append(bootId).append('\n');
    for (SavedConnection c : open) {
      text.append(Long.toHexString(c.socketId()))
          .append('\t')
          .append(c.side().name())
          .append('\t')
          .append(c.localAddress().getHostAddress())
          .append('\t')
          .append(c.localPort())
          .append('\t')
          .append(c.remoteAddress().getHostAddress())
          .append('\t')
          .append(c.remotePort())
          .append('\t')
          .append(c.startNs())
          .append('\t')
          .append(c.reportedUntilNs())
          .append('\t')
          .append(c.sent())
          .append('\t')
          .append(c.received())
          .append('\t')
          .append(c.segsOut())
          .append('\t')
          .append(c.segsIn())
          .append('\t')
          .append(c.retrans())
          .append('\t')
          .append(c.pid())
          .append('\t')
          .append(c.comm() == null ? "" : URLEncoder.encode(c.comm(), StandardCharsets.UTF_8))
          .append('\n');
    }
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private void deleteQuietly() {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("cannot delete the flow table state {}: {}", file, e.toString());
    }
  }
}
