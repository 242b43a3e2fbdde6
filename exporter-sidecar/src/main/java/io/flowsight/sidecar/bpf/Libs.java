package io.flowsight.sidecar.bpf;

import java.nio.charset.StandardCharsets;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads libbpf and libc once, routes libbpf's log to SLF4J, and turns libbpf results into {@link
 * BpfException}s. Everything here is process-wide, as libbpf's print callback is.
 */
final class Libs {

  /** Logger of libbpf's own messages (the verifier log comes at WARN when a load fails). */
  static final Logger LIBBPF_LOG = LoggerFactory.getLogger("libbpf");

  private static final int LIBBPF_WARN = 0;
  private static final int LIBBPF_INFO = 1;

  /** Largest libbpf message we format whole; the verifier log of a failed load can be long. */
  private static final int PRINT_BUFFER_BYTES = 1 << 20;

  private static volatile Libs instance;

  final LibBpf bpf;
  final LibC libc;
  final Runtime runtime;
  private final Pointer printBuffer;

  /** Strongly held: libbpf keeps only the native trampoline, which dies with this object. */
  @SuppressWarnings("unused")
  private final LibBpf.PrintFn printFn;

  private Libs() {
    this.bpf = loadLibBpf();
    this.libc = LibraryLoader.create(LibC.class).failImmediately().load("c");
    this.runtime = Runtime.getRuntime(bpf);
    this.printBuffer = Memory.allocateDirect(runtime, PRINT_BUFFER_BYTES);
    this.printFn = this::print;
    bpf.libbpf_set_print(printFn);
  }

  /** The loaded libraries; throws {@link BpfException} if libbpf.so.1 cannot be loaded. */
  static Libs get() {
    Libs libs = instance;
    if (libs == null) {
      synchronized (Libs.class) {
        libs = instance;
        if (libs == null) {
          libs = new Libs();
          instance = libs;
        }
      }
    }
    return libs;
  }

  private static LibBpf loadLibBpf() {
    // libbpf.so.1 is what the runtime package (libbpf1) installs; "bpf" (libbpf.so) only comes
    // with libbpf-dev.
    UnsatisfiedLinkError first = null;
    for (String name : new String[] {"libbpf.so.1", "bpf"}) {
      try {
        return LibraryLoader.create(LibBpf.class).failImmediately().load(name);
      } catch (UnsatisfiedLinkError e) {
        if (first == null) {
          first = e;
        }
      }
    }
    throw new BpfException(
        "load libbpf",
        0,
        "libbpf.so.1 not found or incomplete (apt-get install libbpf1, or libbpf-dev): " + first,
        first);
  }

  /** libbpf's print callback: format the va_list with vsnprintf, log at the matching level. */
  private int print(int level, Pointer format, Pointer args) {
    boolean enabled =
        switch (level) {
          case LIBBPF_WARN -> LIBBPF_LOG.isWarnEnabled();
          case LIBBPF_INFO -> LIBBPF_LOG.isInfoEnabled();
          default -> LIBBPF_LOG.isDebugEnabled();
        };
    if (!enabled) {
      return 0;
    }
    String message;
    synchronized (printBuffer) {
      int n = libc.vsnprintf(printBuffer, PRINT_BUFFER_BYTES, format, args);
      if (n < 0) {
        return 0;
      }
      int len = Math.min(n, PRINT_BUFFER_BYTES - 1);
      byte[] bytes = new byte[len];
      printBuffer.get(0, bytes, 0, len);
      message = new String(bytes, StandardCharsets.UTF_8).stripTrailing();
      if (n > len) {
        message += " ... [truncated, " + n + " bytes]";
      }
    }
    switch (level) {
      case LIBBPF_WARN -> LIBBPF_LOG.warn("{}", message);
      case LIBBPF_INFO -> LIBBPF_LOG.info("{}", message);
      default -> LIBBPF_LOG.debug("{}", message);
    }
    return 0;
  }

  /** errno saved by the last {@code @SaveError} call on this thread. */
  int lastErrno() {
    return LastError.getLastError(runtime);
  }

  /** libbpf's text for an errno (knows libbpf's own codes too). */
  String strerror(int errno) {
    Pointer buf = Memory.allocateDirect(runtime, 256);
    if (bpf.libbpf_strerror(errno, buf, 256) != 0 && errno == 0) {
      return "unknown error";
    }
    return buf.getString(0, 256, StandardCharsets.UTF_8);
  }

  /** Throws if a libbpf int result is negative ({@code -errno}). Returns it otherwise. */
  int check(String operation, int result) {
    if (result < 0) {
      throw exception(operation, -result, null);
    }
    return result;
  }

  /**
   * Throws if a libbpf pointer result is NULL (errno from {@code @SaveError}) or error-encoded
   * (-4095..-1, what {@code libbpf_get_error} checks).
   */
  Pointer checkPointer(String operation, Pointer result) {
    if (result == null) {
      int errno = lastErrno();
      throw exception(operation, errno != 0 ? errno : 22 /* EINVAL */, null);
    }
    long address = result.address();
    if (address < 0 && address >= -4095) {
      throw exception(operation, (int) -address, null);
    }
    return result;
  }

  BpfException exception(String operation, int errno, String hint) {
    String text = strerror(errno);
    return new BpfException(operation, errno, hint == null ? text : text + "; " + hint);
  }
}
