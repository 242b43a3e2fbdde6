package io.flowsight.sidecar.bpf;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.SaveError;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The libc functions the libbpf bridge needs: formatting libbpf's {@code va_list} messages and
 * reading a BPF iterator's fd.
 */
public interface LibC {

  /**
   * Formats {@code args} (a {@code va_list}, consumed: call once per list) into {@code buf}.
   * Returns the length the full message would have, which may exceed {@code size - 1}.
   */
  int vsnprintf(Pointer buf, @size_t long size, Pointer format, Pointer args);

  /** Returns the bytes read, 0 at the end, -1 with errno set. */
  @SaveError
  @ssize_t
  long read(int fd, Pointer buf, @size_t long count);

  @SaveError
  int close(int fd);
}
